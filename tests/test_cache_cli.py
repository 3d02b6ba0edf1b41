"""The layer index cache through the command line: a cached layer's bytes are never read again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.testing import File, ImageSpec, LayerSpec, Synthetic, write_image

BASE = LayerSpec(
    [File(f"/usr/lib/lib{i}.so", Synthetic(30_000, seed=f"lib{i}")) for i in range(20)],
    created_by="/bin/sh -c #(nop) ADD file:base in / ",
)


def _spec(app: bytes) -> ImageSpec:
    return ImageSpec(
        layers=[BASE, LayerSpec([File("/app/main.py", app)], created_by="/bin/sh -c echo app")],
        repo_tags=["example.com/cache/app:1"],
    )


def _inspect(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code = main(["inspect", *args, "--json"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else {}), captured.err


def _scramble(blob: Path) -> None:
    """Same size, different bytes: reading it would fail (not a tar) or disagree."""
    size = blob.stat().st_size
    blob.chmod(0o644)
    blob.write_bytes(bytes((i * 7 + 13) % 256 for i in range(size)))


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def test_second_inspect_reads_no_layer_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = write_image(
        _spec(b"print(1)\n"), tmp_path / "a", format="oci-dir", compression="none"
    )
    code, first, _ = _inspect(capsys, str(written.path))
    assert code == 0
    for layer in written.images[0].layers:
        _scramble(_blob(written.path, layer.digest))
    code, second, _ = _inspect(capsys, str(written.path))
    assert code == 0
    assert second["layers"] == first["layers"]
    assert second["image"]["reclaimable"] == first["image"]["reclaimable"]
    # without the cache, or when asked to verify, the scrambled blobs are read and refused
    code, _, err = _inspect(capsys, str(written.path), "--no-cache")
    assert code == 2 and "not a tar" in err
    code, _, err = _inspect(capsys, str(written.path), "--verify")
    assert code == 2


def test_shared_layers_are_read_once_across_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = write_image(_spec(b"print(1)\n"), tmp_path / "one", format="oci-dir", compression="gzip")
    two = write_image(_spec(b"print(2)\n"), tmp_path / "two", format="oci-dir", compression="gzip")
    assert one.images[0].layers[0].diff_id == two.images[0].layers[0].diff_id
    assert _inspect(capsys, str(one.path))[0] == 0
    _scramble(_blob(two.path, two.images[0].layers[0].digest))  # the shared base, in image two
    code, doc, err = _inspect(capsys, str(two.path))
    assert code == 0, err
    assert doc["layers"][0]["size_bytes"] == 20 * 30_000
    assert doc["layers"][1]["added"] == 1


def test_a_lying_archive_never_enters_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A layer whose bytes do not hash to the config's diff_id is read as it is (like dive, no
    check without --verify) but never cached: each run warns and reads it again."""
    written = write_image(
        _spec(b"print(1)\n"), tmp_path / "a", format="oci-dir", compression="none"
    )
    blob = _blob(written.path, written.images[0].layers[1].digest)
    data = bytearray(blob.read_bytes())
    at = data.index(b"print(1)")
    data[at + 6] = ord("9")  # still a valid tar, but not the diff_id's bytes
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    for _ in range(2):
        code, doc, err = _inspect(capsys, str(written.path))
        assert code == 0
        assert "warning:" in err and "hashes to" in err and "not cached" in err
        assert doc["layers"][1]["added"] == 1
    assert main(["cache", "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layers"]["count"] == 1  # only the honest layer
    code, _, err = _inspect(capsys, str(written.path), "--verify")
    assert code == 2 and "hashes to" in err


def test_an_unusable_cache_directory_is_a_warning_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(blocker))
    written = write_image(_spec(b"print(1)\n"), tmp_path / "a.tar", format="docker-25")
    code, doc, err = _inspect(capsys, str(written.path))
    assert code == 0 and doc["image"]["layer_count"] == 2
    assert err.count("\n") == 1 and "warning: layer cache not used" in err
    # a compressed outer archive needs the cache directory to spool into: that is an error
    gz = write_image(
        _spec(b"print(1)\n"), tmp_path / "b.tar.gz", format="docker-25", outer_gzip=True
    )
    code, _, err = _inspect(capsys, str(gz.path))
    assert code == 2 and "cannot create directory" in err
