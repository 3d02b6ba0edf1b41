"""Sources give every layer stored uncompressed its gzip estimate, once: the layer cache keeps it.

The truth each figure is held to is computed here from the layer tar inside the archive, gzip -6
with Python's zlib. Tolerances: tests/test_gzip_estimate.py says why.
"""

from __future__ import annotations

import json
import sqlite3
import tarfile
import zlib
from pathlib import Path

import pytest

from layerscope.analysis.push import PushSource, image_cost, layer_cost
from layerscope.sources.archive import load_path
from layerscope.sources.context import LoadContext
from layerscope.store import LayerCache
from layerscope.testing import File, ImageSpec, LayerSpec, Synthetic, write_image

MIB = 1 << 20


def spec() -> ImageSpec:
    """A small base and a ~12 MiB layer (text with a big binary file inside): sampled."""
    big = [
        *(File(f"/app/m{i}.py", Synthetic(20_000, i, "text")) for i in range(250)),
        File("/app/model.bin", Synthetic(3 * MIB, "m", "binary")),
        *(File(f"/app/n{i}.py", Synthetic(15_000, i, "text")) for i in range(250)),
    ]
    return ImageSpec(
        layers=[
            LayerSpec([File("/etc/os-release", b"ID=test\n")], "ADD rootfs /"),
            LayerSpec(big, "COPY app/ /app/"),
        ],
        repo_tags=["example.test/estimate:1"],
    )


def gzip6(data: bytes) -> int:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return len(packer.compress(data)) + len(packer.flush())


def layer_tars(path: Path) -> list[bytes]:
    """The layer tars of a docker-save archive, in order, read with tarfile (not layerscope)."""
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        return [tar.extractfile(name).read() for name in manifest[0]["Layers"]]  # type: ignore[union-attr]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "img.tar"
    write_image(spec(), path, "docker-25")
    return path


def test_a_docker_save_archive_gets_estimates_near_the_real_gzip(archive: Path) -> None:
    image = load_path(archive)
    tars = layer_tars(archive)
    assert len(tars[1]) > 8 * MIB  # the big layer is sampled, not compressed whole
    for layer, tar in zip(image.layers, tars, strict=True):
        assert layer.compression == "none" and layer.gzip_estimate_bytes is not None
        truth = gzip6(tar)
        assert abs(layer.gzip_estimate_bytes - truth) <= 0.06 * truth, (layer.index, truth)
        cost = layer_cost(layer)
        assert cost is not None and cost.source is PushSource.ESTIMATE
    assert image.layers[0].gzip_estimate_bytes == gzip6(tars[0])  # small: compressed whole
    total = image_cost(image)
    assert total is not None and total.source is PushSource.ESTIMATE
    assert total.size_bytes == sum(layer.gzip_estimate_bytes or 0 for layer in image.layers)


def test_compressed_layers_have_no_estimate_their_blobs_are_measured(tmp_path: Path) -> None:
    path = tmp_path / "gz.tar"
    write_image(spec(), path, "oci-tar", compression="gzip")
    image = load_path(path)
    for layer in image.layers:
        assert layer.compression == "gzip" and layer.gzip_estimate_bytes is None
        cost = layer_cost(layer)
        assert cost is not None and cost.source is PushSource.BLOB
        assert cost.size_bytes == layer.compressed_size_bytes


def test_the_layer_cache_keeps_the_estimate_and_old_entries_get_one_sampled(
    archive: Path, tmp_path: Path
) -> None:
    db = tmp_path / "cache.sqlite3"
    with LayerCache(db) as cache:
        first = load_path(archive, LoadContext(index=cache))
        estimates = [layer.gzip_estimate_bytes for layer in first.layers]
        for layer, estimate in zip(first.layers, estimates, strict=True):
            cached = cache.get(layer.diff_id)
            assert cached is not None and cached.gzip_estimate_bytes == estimate
    # a cached estimate is served, not computed again: mark it and read it back
    raw = sqlite3.connect(db)
    raw.execute("UPDATE layers SET gzip_estimate_bytes = 4242")
    raw.commit()
    with LayerCache(db) as cache:
        again = load_path(archive, LoadContext(index=cache))
    assert [layer.gzip_estimate_bytes for layer in again.layers] == [4242, 4242]
    # an entry written before estimates were kept (or by a compressed copy): the walk is served
    # and the estimate sampled from this blob, never written under a key its bytes did not earn
    raw.execute("UPDATE layers SET gzip_estimate_bytes = NULL")
    raw.commit()
    with LayerCache(db) as cache:
        filled = load_path(archive, LoadContext(index=cache))
        assert [layer.gzip_estimate_bytes for layer in filled.layers] == estimates
        assert [cache.get(layer.diff_id).gzip_estimate_bytes for layer in filled.layers] == [  # type: ignore[union-attr]
            None,
            None,
        ]
    assert [len(layer.entries) for layer in filled.layers] == [
        len(layer.entries) for layer in first.layers
    ]
    raw.close()


def test_inspect_says_what_a_push_sends_and_whether_it_is_an_estimate(
    archive: Path, tmp_path: Path
) -> None:
    import io

    from layerscope import cli
    from layerscope.render.units import size

    def inspect(*argv: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        assert cli.main(["inspect", *argv], stdout=out, stderr=err) == 0, err.getvalue()
        return out.getvalue()

    truth = sum(gzip6(tar) for tar in layer_tars(archive))
    doc = json.loads(inspect(str(archive), "--json"))["image"]
    assert doc["push_bytes_source"] == "estimate"
    assert abs(doc["push_bytes"] - truth) <= 0.06 * truth
    text = " ".join(inspect(str(archive), "--text").split())
    assert f"stored (≈{size(doc['push_bytes'])} to push: gzip estimated from a sample)" in text
    page = inspect(str(archive), "--html")
    assert "To push" in page and f"≈{size(doc['push_bytes'])}" in page
    gz = tmp_path / "gz.tar"
    write_image(spec(), gz, "oci-tar", compression="gzip")
    doc = json.loads(inspect(str(gz), "--json"))["image"]
    assert (doc["push_bytes"], doc["push_bytes_source"]) == (doc["compressed_size_bytes"], "blob")
    assert "≈" not in inspect(str(gz), "--text") and "as pushed and pulled" in inspect(
        str(gz), "--html"
    )
