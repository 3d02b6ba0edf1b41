"""BlobCache: only verified blobs land, atomically, and prune/info see them."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest

from layerscope.errors import DigestMismatchError, StoreError
from layerscope.model import Digest
from layerscope.store import BlobCache

DATA = b"layer bytes " * 1000


def _digest(data: bytes) -> Digest:
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_verified_blob_is_stored_content_addressed(tmp_path: Path) -> None:
    blobs = BlobCache(tmp_path)
    digest = _digest(DATA)
    assert blobs.open(digest) is None and not blobs.has(digest)
    with blobs.writer(digest) as sink:
        for i in range(0, len(DATA), 5000):
            sink.write(DATA[i : i + 5000])
    assert sink.bytes_written == len(DATA)
    assert _files(tmp_path) == [f"blobs/sha256/{digest[7:]}"]
    handle = blobs.open(digest)
    assert handle is not None
    with handle:
        assert handle.read() == DATA
    assert blobs.info().blob_count == 1 and blobs.info().blob_bytes == len(DATA)


def test_sha512_digests_work_too(tmp_path: Path) -> None:
    digest = Digest("sha512:" + hashlib.sha512(DATA).hexdigest())
    with BlobCache(tmp_path).writer(digest) as sink:
        sink.write(DATA)
    assert BlobCache(tmp_path).has(digest)


def test_wrong_or_partial_blob_never_lands(tmp_path: Path) -> None:
    blobs = BlobCache(tmp_path)
    digest = _digest(DATA)
    with pytest.raises(DigestMismatchError, match="not cached"), blobs.writer(digest) as sink:
        sink.write(DATA[:-1])  # a truncated download
    with pytest.raises(ConnectionError), blobs.writer(digest) as sink:
        sink.write(DATA[:100])
        raise ConnectionError("registry went away")
    assert not blobs.has(digest)
    assert _files(tmp_path) == []  # no temp file left behind either


def test_existing_blob_is_replaced_atomically_by_an_identical_one(tmp_path: Path) -> None:
    blobs = BlobCache(tmp_path)
    digest = _digest(DATA)
    for _ in range(2):
        with blobs.writer(digest) as sink:
            sink.write(DATA)
    assert blobs.info().blob_count == 1


@pytest.mark.parametrize(
    "bad", ["sha256:../../etc/passwd", "sha256:ABC", "md5:" + "0" * 32, "sha256:" + "0" * 63, ""]
)
def test_malformed_digests_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(StoreError, match="not a sha256/sha512 digest"):
        BlobCache(tmp_path).path_for(Digest(bad))


def test_prune_by_last_use_and_stale_temp_files(tmp_path: Path) -> None:
    blobs = BlobCache(tmp_path)
    now = 2_000_000_000.0
    old, new = b"old blob", b"new blob"
    for data, age_days in ((old, 30), (new, 1)):
        with blobs.writer(_digest(data)) as sink:
            sink.write(data)
        stamp = now - age_days * 86_400
        os.utime(blobs.path_for(_digest(data)), (stamp, stamp))
    leftover = tmp_path / "blobs" / "sha256" / ".tmp-crashed"
    leftover.write_bytes(b"12345")
    os.utime(leftover, (now - 7200, now - 7200))
    result = blobs.prune(timedelta(days=7), now=now)
    assert result.blob_count == 1 and result.bytes_freed == len(old) + 5
    assert not blobs.has(_digest(old)) and blobs.has(_digest(new))
    assert not leftover.exists()
    assert blobs.prune(None).bytes_freed == len(new)
    assert blobs.info().blob_count == 0


def test_default_root_is_the_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(tmp_path / "c"))
    assert BlobCache().root == tmp_path / "c" / "blobs"
