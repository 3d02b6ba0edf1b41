"""cache_history on synthetic rebuild series: hit ratios worked out by hand from the definition
(layer i hits when its chain ID equals layer i's of the build before; ratio = hits / layers)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from layerscope.analysis.cache import (
    LayerState,
    MissReason,
    PathChange,
    PathChangeKind,
    cache_history,
    created_sort_key,
    history_series,
    order_builds,
)
from layerscope.model import Digest, FileEntry, Image
from layerscope.store.history import base_flags, build_record, repository_of
from tests.history.histkit import REPO, Inputs, load, write
from tests.pyckit import compiled_pyc

T1, T2, T3, T4 = (f"2024-05-0{d}T10:00:00Z" for d in (1, 2, 3, 4))


def series(tmp_path: Path, builds: list[tuple[str, str, Inputs]]) -> list[Image]:
    return [load(write(tmp_path, tag, created, inputs)) for tag, created, inputs in builds]


def files_of(images: list[Image]):  # type: ignore[no-untyped-def]
    known = {layer.diff_id: layer.entries for image in images for layer in image.layers}

    def lookup(diff_id: Digest) -> tuple[FileEntry, ...] | None:
        return known.get(diff_id)

    return lookup


def test_four_builds_hits_causes_and_timelines(tmp_path: Path) -> None:
    changed_src = {"main.py": b"print('hello')\n", "util.py": b"X = 1\n"}
    images = series(tmp_path, [
        ("b1", T1, Inputs()),
        ("b2", T2, Inputs(sources=changed_src)),  # layer 3 changes
        ("b3", T3, Inputs(sources=changed_src, requirements=b"requests==2.32\n")),  # layer 1
        ("b4", T4, Inputs(sources=changed_src, requirements=b"requests==2.32\n",
                          base=b"base v2\n")),  # layer 0: the base moved
    ])  # fmt: skip
    records = [build_record(image) for image in images]
    # recorded out of order and b3 twice: ordering is by creation time, an id counts once
    shuffled = [records[3], records[0], records[2], records[1], records[2]]
    history = cache_history(shuffled, files=files_of(images))
    assert [r.build.tag for r in history.builds] == ["b1", "b2", "b3", "b4"]
    b1, b2, b3, b4 = history.builds
    # b1: nothing to compare with
    assert (b1.hits, b1.hit_ratio, b1.cause, b1.rebuilt_bytes) == (None, None, None, None)
    # b2: layers 0, 1, 2 keep their chain IDs, layer 3 differs: 3 / 4
    assert b2.hits == (True, True, True, False)
    assert b2.hit_ratio == 3 / 4
    assert b2.cause is not None and b2.cause.reason is MissReason.FILES_CHANGED
    assert b2.cause.layer_index == 3
    assert b2.cause.paths == (
        PathChange("/app/src/main.py", PathChangeKind.CONTENT, len(b"print('hello')\n")),
    )
    assert b2.rebuilt_layers == (3,)
    # bytes of the rebuilt layer: main.py (15) + util.py (6)
    assert b2.rebuilt_bytes == 15 + 6
    assert b2.rebuilt_seconds is None  # no build log
    # b3: requirements.txt changed; the RUN output is the same bytes (same diff_id) but its
    # chain ID changes with the layer below, and so does layer 3's: 1 / 4
    assert images[2].layers[2].diff_id != images[1].layers[2].diff_id  # different pip output
    assert images[2].layers[3].diff_id == images[1].layers[3].diff_id  # same src layer bytes
    assert b3.hits == (True, False, False, False)
    assert b3.hit_ratio == 1 / 4
    assert b3.cause is not None and b3.cause.reason is MissReason.FILES_CHANGED
    assert [p.path for p in b3.cause.paths] == ["/app/requirements.txt"]
    assert b3.rebuilt_layers == (1, 2, 3)
    # requirements (15) + "site:" + requirements (5 + 15) + sources (15 + 6)
    assert b3.rebuilt_bytes == 15 + 20 + 21
    # b4: the base layer changed: 0 / 4, base image moved
    assert b4.hit_ratio == 0.0
    assert b4.cause is not None and b4.cause.reason is MissReason.BASE_IMAGE
    assert b4.cause.layer_index == 0
    # per layer position: states across b1..b4 and miss rate = misses / compared builds
    states = [tuple(s.value for s in item.states) for item in history.instructions]
    assert states == [
        ("new", "hit", "hit", "miss"),
        ("new", "hit", "miss", "miss"),
        ("new", "hit", "miss", "miss"),
        ("new", "miss", "miss", "miss"),
    ]
    assert [item.miss_rate for item in history.instructions] == [1 / 3, 2 / 3, 2 / 3, 1.0]
    assert history.instructions[3].instruction == "COPY src/ /app/src/"
    series_ = history_series(history)
    assert series_.labels == ("b1", "b2", "b3", "b4")
    assert series_.hit_ratio == (None, 0.75, 0.25, 0.0)
    assert series_.size_bytes == tuple(image.size_bytes for image in images)


def test_hits_equal_an_independent_chain_id_computation(tmp_path: Path) -> None:
    import hashlib

    images = series(tmp_path, [
        ("a", T1, Inputs()),
        ("b", T2, Inputs(requirements=b"flask\n")),
        ("c", T3, Inputs(requirements=b"flask\n")),
    ])  # fmt: skip

    def chain(diff_ids: list[str]) -> list[str]:  # OCI image spec, written out again here
        out: list[str] = []
        for d in diff_ids:
            out.append(d if not out else "sha256:" + hashlib.sha256(
                f"{out[-1]} {d}".encode()).hexdigest())  # fmt: skip
        return out

    chains = [chain([str(layer.diff_id) for layer in image.layers]) for image in images]
    expected = [None] + [
        sum(a == b for a, b in zip(chains[n], chains[n - 1], strict=False)) / len(chains[n])
        for n in (1, 2)
    ]
    history = cache_history([build_record(image) for image in images])
    assert [r.hit_ratio for r in history.builds] == expected == [None, 0.25, 1.0]


def test_timestamp_only_non_reproducible_and_instruction_changes(tmp_path: Path) -> None:
    images = series(tmp_path, [
        ("t1", T1, Inputs()),
        ("t2", T2, Inputs(src_mtime=2000)),  # same bytes, new mtimes
        ("t3", T3, Inputs(src_mtime=2000, pip_output=b"built at 3\n")),  # RUN output differs
        # a new command (with new output; the same bytes would keep the chain ID: a hit)
        ("t4", T4, Inputs(src_mtime=2000, pip_output=b"pip 24\n",
                          run_command="RUN /bin/sh -c pip install -U pip # buildkit")),
    ])  # fmt: skip
    history = cache_history([build_record(i) for i in images], files=files_of(images))
    t2, t3, t4 = history.builds[1:]
    assert t2.cause is not None and t2.cause.reason is MissReason.METADATA_ONLY
    assert [(p.path, p.kind) for p in t2.cause.paths] == [
        ("/app/src/main.py", PathChangeKind.TIMESTAMP),
        ("/app/src/util.py", PathChangeKind.TIMESTAMP),
    ]
    assert t2.hit_ratio == 3 / 4
    assert t3.cause is not None and t3.cause.reason is MissReason.NON_REPRODUCIBLE
    assert t3.cause.layer_index == 2
    assert [p.path for p in t3.cause.paths] == ["/usr/lib/site/installed.txt"]
    assert t3.hit_ratio == 2 / 4
    assert t4.cause is not None and t4.cause.reason is MissReason.INSTRUCTION_CHANGED
    assert t4.cause.instruction == "RUN pip install -U pip"
    assert t4.cause.previous_instruction == "RUN pip install -r /app/requirements.txt"


def test_a_rebuild_that_only_recompiled_pyc_files_is_a_non_reproducible_step(
    tmp_path: Path,
) -> None:
    """pip compiled the same sources again: the .pyc headers (source mtime) differ, the code
    does not. That is build noise (metadata_only), not 'same inputs, different output'."""
    pyc = "/usr/lib/site/pkg/__pycache__/mod.cpython-311.pyc"
    src = b"def f():\n    return 42\n"
    mod = "/usr/lib/site/pkg/mod.py"
    images = series(tmp_path, [
        ("t1", T1, Inputs(pip_files={pyc: compiled_pyc(src, 1_000, mod)})),
        ("t2", T2, Inputs(pip_files={pyc: compiled_pyc(src, 2_000, mod)})),
        ("t3", T3, Inputs(pip_files={pyc: compiled_pyc(b"X = 2\n", 3_000, mod)})),
    ])  # fmt: skip
    history = cache_history([build_record(i) for i in images], files=files_of(images))
    t2, t3 = history.builds[1:]
    assert t2.cause is not None and t2.cause.layer_index == 2
    assert t2.cause.reason is MissReason.METADATA_ONLY
    assert [(p.path, p.kind) for p in t2.cause.paths] == [(pyc, PathChangeKind.TIMESTAMP)]
    # different code compiled: a real content change
    assert t3.cause is not None and t3.cause.reason is MissReason.NON_REPRODUCIBLE
    assert [(p.path, p.kind) for p in t3.cause.paths] == [(pyc, PathChangeKind.CONTENT)]


def test_added_and_dropped_layers_and_unknown_files(tmp_path: Path) -> None:
    images = series(tmp_path, [
        ("u1", T1, Inputs()),
        ("u2", T2, Inputs(extra_layer=True)),  # one more layer on top
        ("u3", T3, Inputs()),  # back to four: each of them equals u2's layer i
        ("u4", T4, Inputs(requirements=b"x\n")),
    ])  # fmt: skip
    history = cache_history([build_record(i) for i in images])  # no file lookup at all
    u2, u3, u4 = history.builds[1:]
    assert u2.hits == (True, True, True, True, False) and u2.hit_ratio == 4 / 5
    assert u2.cause is not None and u2.cause.reason is MissReason.LAYER_ADDED
    assert u3.hit_ratio == 1.0 and u3.cause is None and u3.rebuilt_bytes == 0
    assert u4.cause is not None and u4.cause.reason is MissReason.UNKNOWN
    assert history.instructions[4].states == (
        LayerState.ABSENT,
        LayerState.MISS,
        LayerState.ABSENT,
        LayerState.ABSENT,
    )
    assert history.instructions[4].miss_rate == 1.0


def test_base_flags_from_history_comments(tmp_path: Path) -> None:
    image = series(tmp_path, [("x", T1, Inputs())])[0]
    assert base_flags(image) == (True, False, False, False)
    assert base_flags(image, 2) == (True, True, False, False)
    # every entry marked (FROM scratch, or a BuildKit-built base): the image does not say
    unmarked = dataclasses.replace(
        image,
        layers=tuple(
            dataclasses.replace(
                layer, history=dataclasses.replace(layer.history, comment="buildkit.dockerfile.v0")
            )
            if layer.history
            else layer
            for layer in image.layers
        ),
    )
    assert base_flags(unmarked) == (None,) * 4


def test_repository_from_repo_tags_or_ref(tmp_path: Path) -> None:
    image = series(tmp_path, [("v7", T1, Inputs())])[0]
    assert repository_of(image) == (REPO, "v7")
    untagged = dataclasses.replace(image, repo_tags=(), ref="registry://busybox:1.36")
    assert repository_of(untagged) == ("docker.io/library/busybox", "1.36")
    assert repository_of(dataclasses.replace(untagged, ref=str(tmp_path / "v7.tar"))) == (
        str(tmp_path / "v7.tar"),
        None,
    )


@pytest.mark.parametrize(
    "text,key",
    [
        ("2024-05-01T10:00:00Z", (1714557600, 0)),
        ("2024-05-01T12:00:00.5+02:00", (1714557600, 500_000_000)),
        ("2024-05-01T10:00:00.123456789Z", (1714557600, 123_456_789)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_created_sort_key(text: str | None, key: tuple[int, int] | None) -> None:
    # 2024-05-01T10:00:00Z = 19844 days * 86400 + 10 h = 1714557600
    assert created_sort_key(text) == key


def test_order_nanoseconds_then_unknown_last(tmp_path: Path) -> None:
    image = series(tmp_path, [("o", T1, Inputs())])[0]
    base = build_record(image)
    a = dataclasses.replace(
        base, image_id=Digest("sha256:a"), created="2024-01-01T00:00:00.000000002Z"
    )
    b = dataclasses.replace(
        base, image_id=Digest("sha256:b"), created="2024-01-01T00:00:00.000000001Z"
    )
    c = dataclasses.replace(base, image_id=Digest("sha256:c"), created=None)
    assert [r.image_id for r in order_builds([c, a, b])] == ["sha256:b", "sha256:a", "sha256:c"]


def test_chain_ids_decide_even_when_the_instruction_text_changed(tmp_path: Path) -> None:
    # the RUN command is reworded but writes the same bytes: same diff_id, same chain ID -> hit
    images = series(tmp_path, [
        ("w1", T1, Inputs()),
        ("w2", T2, Inputs(run_command="RUN /bin/sh -c pip install -r /app/requirements.txt -q")),
    ])  # fmt: skip
    assert images[0].layers[2].created_by != images[1].layers[2].created_by
    history = cache_history([build_record(i) for i in images])
    assert history.builds[1].hit_ratio == 1.0 and history.builds[1].cause is None
