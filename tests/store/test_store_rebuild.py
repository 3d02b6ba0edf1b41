"""``store.rebuild_image``: a recorded build turned back into an Image from the layer cache."""

from __future__ import annotations

from pathlib import Path

from layerscope.model import Image
from layerscope.sources import LoadContext, load_image
from layerscope.store import LayerCache, rebuild_image
from layerscope.store.history import build_record
from layerscope.testing import File, ImageSpec, LayerSpec, write_image

SPEC = ImageSpec(
    layers=[
        LayerSpec([File("/etc/os-release", b"ID=test\n")], created_by="/bin/sh -c #(nop) ADD x /"),
        LayerSpec([File("/app/main.py", b"print('one')\n")], created_by="/bin/sh -c make"),
    ],
    repo_tags=["example.com/app:1"],
)


def _loaded(tmp_path: Path, cache: LayerCache) -> Image:
    """The image of SPEC, read through ``cache`` (which the read fills, as a command's does)."""
    write_image(SPEC, tmp_path / "img.tar")
    return load_image(str(tmp_path / "img.tar"), LoadContext(index=cache))


def test_every_layer_cached_rebuilds_the_layers_files_and_instructions(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache.sqlite3")
    image = _loaded(tmp_path, cache)
    record = build_record(image, ref="example.com/app:1")
    rebuilt = rebuild_image(record, cache)
    assert rebuilt is not None
    assert rebuilt.image_id == image.image_id
    assert [layer.diff_id for layer in rebuilt.layers] == [layer.diff_id for layer in image.layers]
    assert [layer.entries for layer in rebuilt.layers] == [layer.entries for layer in image.layers]
    assert [layer.size_bytes for layer in rebuilt.layers] == [x.size_bytes for x in image.layers]
    assert [h.created_by for h in rebuilt.history] == [
        "/bin/sh -c #(nop) ADD x /",
        "/bin/sh -c make",
    ]


def test_a_layer_gone_from_the_cache_rebuilds_nothing(tmp_path: Path) -> None:
    full = LayerCache(tmp_path / "full.sqlite3")
    image = _loaded(tmp_path, full)
    first = full.get(image.layers[0].diff_id)
    assert first is not None
    partial = LayerCache(tmp_path / "partial.sqlite3")
    partial.put(image.layers[0].diff_id, first)  # the second layer is not there
    assert rebuild_image(build_record(image), partial) is None
    assert rebuild_image(build_record(image), full) is not None
