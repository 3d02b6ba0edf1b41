"""base_layers: which leading layers belong to the base image."""

from __future__ import annotations

from layerscope.analysis.base import (
    BASE_DIGEST_KEY,
    BASE_NAME_KEY,
    BaseMethod,
    base_layers,
    base_reference_from_labels,
)
from layerscope.model import Image
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import memory_image as image

IDS = [f"sha256:{c * 64}" for c in "abcd"]


def four_layers() -> Image:
    # Layer sizes 1, 10, 100, 1000 bytes: the split sums are easy to read.
    return image([f("/a", 1)], [f("/b", 10)], [f("/c", 100)], [f("/d", 1000)], diff_ids=IDS)


def test_default_is_one_layer_like_dive() -> None:
    split = base_layers(four_layers())
    assert (split.count, split.method) == (1, BaseMethod.DEFAULT)
    assert (split.base_bytes, split.user_bytes) == (1, 10 + 100 + 1000)


def test_default_for_an_image_without_layers() -> None:
    split = base_layers(image())
    assert (split.count, split.base_bytes, split.user_bytes) == (0, 0, 0)


def test_base_ref_prefix() -> None:
    img = four_layers()
    base = image([f("/a", 1)], [f("/b", 10)], diff_ids=IDS[:2])
    split = base_layers(img, base)
    assert (split.count, split.method, split.base_mismatch) == (2, BaseMethod.BASE_REF, False)
    assert (split.base_bytes, split.user_bytes) == (1 + 10, 100 + 1000)


def test_base_ref_not_a_prefix_falls_back_and_says_so() -> None:
    img = four_layers()
    other = image([f("/a", 1)], [f("/x", 10)], diff_ids=[IDS[0], "sha256:" + "e" * 64])
    split = base_layers(img, other)
    assert (split.count, split.method, split.base_mismatch) == (1, BaseMethod.DEFAULT, True)
    split = base_layers(img, other, 3)
    assert (split.count, split.method, split.base_mismatch) == (3, BaseMethod.DOCKERFILE, True)


def test_base_ref_wins_over_dockerfile() -> None:
    base = image([f("/a", 1)], diff_ids=IDS[:1])
    split = base_layers(four_layers(), base, 3)
    assert (split.count, split.method) == (1, BaseMethod.BASE_REF)


def test_dockerfile_count_is_clamped() -> None:
    img = four_layers()
    assert base_layers(img, None, 3).base_bytes == 1 + 10 + 100
    assert base_layers(img, None, 9).count == 4
    assert base_layers(img, None, -1).count == 0


def test_label_method_needs_the_resolved_base_image() -> None:
    base = image([f("/a", 1)], [f("/b", 10)], [f("/c", 100)], diff_ids=IDS[:3])
    img = four_layers()
    split = base_layers(img, base, base_from_label=True)
    assert (split.count, split.method) == (3, BaseMethod.LABEL)
    assert split.user_bytes == 1000
    # The Dockerfile outranks the label.
    split = base_layers(img, base, 2, base_from_label=True)
    assert (split.count, split.method) == (2, BaseMethod.DOCKERFILE)


def test_base_reference_from_labels() -> None:
    digest = "sha256:" + "1" * 64
    assert base_reference_from_labels(image()) is None
    named = image(labels=[(BASE_NAME_KEY, "docker.io/library/alpine:3.20")])
    assert base_reference_from_labels(named) == "docker.io/library/alpine:3.20"
    both = image(
        labels=[(BASE_NAME_KEY, "ignored:1")],
        annotations=[(BASE_NAME_KEY, "alpine:3.20"), (BASE_DIGEST_KEY, digest)],
    )
    assert base_reference_from_labels(both) == f"alpine:3.20@{digest}"
    only_digest = image(annotations=[(BASE_DIGEST_KEY, digest)])
    assert base_reference_from_labels(only_digest) == digest
