"""Compressed layers are decompressed on a thread of their own, ahead of the walk
(``layers.streams.Ahead``): the same entries and hashes at any chunk size, the decompressor's
errors raised as the walk's, and no thread left behind when the walk stops early."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import random
import signal
import tarfile
import threading

import pytest
import zstandard

from layerscope.errors import LayerFormatError
from layerscope.layers import scan_layer, streams
from layerscope.model import KeptFiles

THREAD = "layer-decompress"


def _decompressing() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD]


def _layer(seed: int = 7) -> bytes:
    """About 10 MB of tar: files of every size around the chunk sizes the tests use, random
    (incompressible) and zero bytes, PAX records, symlinks and kept files first and last."""
    rng = random.Random(seed)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("etc/early.conf")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"a=b\n\n"))
        for i in range(200):
            size = rng.choice([0, 1, 511, 512, 513, 4095, 70_000, 300_001])
            data = rng.randbytes(size) if i % 3 else bytes(size)
            info = tarfile.TarInfo(f"d{i % 7}/" + "n" * (i % 130) + f"-{i}")
            info.size, info.mtime = size, 1_700_000_000 + i
            if i % 11 == 0:
                info.pax_headers = {"comment": "x" * rng.randrange(1, 3000)}
            tar.addfile(info, io.BytesIO(data))
            if i % 9 == 0:
                link = tarfile.TarInfo(f"l/{i}")
                link.type, link.linkname = tarfile.SYMTYPE, f"../d{i % 7}/x"
                tar.addfile(link)
        info = tarfile.TarInfo("etc/os-release")
        payload = b'ID=debian\nVERSION_ID="12"\n'
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return out.getvalue()


KEEP_ETC = KeptFiles(("os-release", ".conf"), 1 << 20, lambda path: path.startswith("/etc/"))


@pytest.fixture(scope="module")
def layer() -> bytes:
    return _layer()


@pytest.fixture(scope="module")
def compressed(layer: bytes) -> dict[str, bytes]:
    return {
        # two gzip members (as pigz and some registries write them)
        "gzip": gzip.compress(layer[:3_000_001], 1) + gzip.compress(layer[3_000_001:], 1),
        "zstd": zstandard.ZstdCompressor(level=1).compress(layer),
        "bzip2": bz2.compress(layer, 1),
    }


@pytest.mark.parametrize("chunk", [1000, 4096, 65_536, streams.AHEAD_CHUNK])
@pytest.mark.parametrize("kind", ["gzip", "zstd", "bzip2"])
def test_any_chunk_size_gives_the_uncompressed_walk(
    layer: bytes,
    compressed: dict[str, bytes],
    kind: str,
    chunk: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunks that split headers, PAX records and file data (1000 bytes is no multiple of the
    tar block) walk to the same entries as the uncompressed blob, which has no thread."""
    expected = scan_layer(memoryview(layer), keep=KEEP_ETC)
    assert [path for path, _ in expected.contents] == ["/etc/early.conf", "/etc/os-release"]
    blob = compressed[kind]
    monkeypatch.setattr(streams, "AHEAD_CHUNK", chunk)
    seen: list[int] = []

    def wants(path: str) -> bool:
        seen.append(len(_decompressing()))
        return KEEP_ETC.wants(path)

    scan = scan_layer(
        io.BytesIO(blob),
        keep=KeptFiles(KEEP_ETC.suffixes, KEEP_ETC.max_bytes, wants),
        want_diff_id=True,
        want_digest=True,
    )
    assert scan.compression == kind
    assert scan.entries == expected.entries
    assert (scan.size_bytes, scan.tar_size_bytes) == (expected.size_bytes, expected.tar_size_bytes)
    assert scan.contents == expected.contents
    assert scan.contents[1][1] == _member(layer, "etc/os-release")
    assert scan.diff_id == "sha256:" + hashlib.sha256(layer).hexdigest()
    assert scan.digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert scan.blob_bytes == len(blob)
    if chunk * (streams.AHEAD_DEPTH + 3) < len(layer):
        # the first file is walked while the thread still decompresses (it can be at most
        # AHEAD_DEPTH + 1 chunks ahead)
        assert seen[0] == 1
    assert _decompressing() == []


def _member(layer: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


def test_a_corrupt_stream_far_into_the_layer_is_the_same_error(layer: bytes) -> None:
    """A CRC failure is found by the decompressing thread; the walk raises it as a one-line
    LayerFormatError, and the thread is gone."""
    blob = bytearray(gzip.compress(layer, 1))
    blob[-6] ^= 0xFF  # the CRC32 in the gzip trailer
    with pytest.raises(LayerFormatError, match=r"^corrupt compressed data \(CRC check failed"):
        scan_layer(io.BytesIO(bytes(blob)), want_diff_id=True)
    assert _decompressing() == []
    with pytest.raises(LayerFormatError, match="^corrupt compressed data .*ended before"):
        scan_layer(io.BytesIO(bytes(blob[: len(blob) * 2 // 3])))
    assert _decompressing() == []


class _FailingAfter(io.RawIOBase):
    """A blob whose reads fail with ``error`` once ``limit`` bytes were read (a disk going
    away, a dropped connection)."""

    def __init__(self, data: bytes, limit: int, error: BaseException) -> None:
        self._data, self._pos, self._limit, self._error = data, 0, limit, error

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        if self._pos >= self._limit:
            raise self._error
        n = min(len(b), self._limit - self._pos)
        b[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


def test_an_error_reading_the_blob_reaches_the_caller(layer: bytes) -> None:
    blob = gzip.compress(layer, 1)
    stream = _FailingAfter(blob, len(blob) // 2, OSError("Input/output error"))
    with pytest.raises(LayerFormatError, match=r"^corrupt compressed data \(Input/output error\)$"):
        scan_layer(stream, want_diff_id=True)
    assert _decompressing() == []
    # an error that is not about the data passes through unchanged
    stream = _FailingAfter(blob, len(blob) // 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        scan_layer(stream)
    assert _decompressing() == []


def test_ctrl_c_in_the_walk_stops_the_decompressing_thread(
    layer: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT while the walk runs (the decompressor far ahead, blocked on a full queue): the
    KeyboardInterrupt comes out of scan_layer and the thread has been joined."""
    monkeypatch.setattr(streams, "AHEAD_CHUNK", 65_536)  # many chunks: the queue fills
    blob = gzip.compress(layer, 1)
    alive: list[int] = []
    assert len(layer) > 65_536 * (streams.AHEAD_DEPTH + 3)

    def interrupt(path: str) -> bool:
        alive.append(len(_decompressing()))
        signal.raise_signal(signal.SIGINT)  # the default handler: KeyboardInterrupt here
        return False

    assert threading.current_thread() is threading.main_thread()
    # Python's own handler, whatever pytest inherited: a run started in the background (CI,
    # nohup) inherits SIGINT ignored, and the signal would then do nothing
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            scan_layer(io.BytesIO(blob), keep=KeptFiles((".conf",), 1 << 20, interrupt))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert alive == [1]
    assert _decompressing() == []


def test_a_bad_tar_header_early_in_a_long_stream_stops_the_thread(layer: bytes) -> None:
    raw = bytearray(layer)
    raw[10] ^= 0x01  # the first header's checksum no longer matches
    with pytest.raises(LayerFormatError, match="bad header checksum"):
        scan_layer(io.BytesIO(gzip.compress(bytes(raw), 1)), want_diff_id=True)
    assert _decompressing() == []
