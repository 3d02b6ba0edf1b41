"""Layer blob compression: sniffing it from the first bytes, and opening a decompressing stream."""

from __future__ import annotations

import bz2
import lzma
from typing import IO, BinaryIO, cast

from .streams import Ahead, ReadsInto

GZIP_INPUT_BYTES = 8 << 20
"""Compressed bytes isal's reader takes from the blob at a time: each read costs the
decompressing thread the GIL twice, which the walk may hold."""

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"

DECOMPRESSOR_ERRORS = {"ZstdError": "zstd", "IsalError": "gzip"}
"""Error classes (by name: importing them eagerly costs start-up) of the decompressors."""


def sniff_compression(head: bytes) -> str:
    """Name the compression of a blob from its first bytes: gzip, zstd, bzip2, xz or none."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(BZIP2_MAGIC) and len(head) >= 4 and head[3:4].isdigit():
        return "bzip2"
    return "none"


def decompressor(kind: str, raw: IO[bytes]) -> IO[bytes]:
    """A stream that yields the decompressed bytes of ``raw``, reading every member/frame.

    gzip goes through isal's ``igzip_threaded``; the standard library's gzip only when isal
    is missing.
    """
    if kind == "gzip":
        try:
            from isal import igzip_threaded

            return cast(IO[bytes], igzip_threaded.open(raw, "rb", threads=1))  # type: ignore[no-untyped-call]
        except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
            import gzip

            return cast(IO[bytes], gzip.GzipFile(fileobj=raw))
    if kind == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return cast(IO[bytes], reader)
    if kind == "bzip2":
        return bz2.BZ2File(raw)
    if kind == "xz":
        return lzma.LZMAFile(raw)
    return raw


def decompress_ahead(kind: str, raw: IO[bytes]) -> Ahead:
    """The decompressed bytes of ``raw`` (compressed with ``kind``), decompressed on a thread of
    their own ahead of the reader (``streams.Ahead``; close it).

    gzip is read by isal's reader object directly, without the thread and copies of
    ``igzip_threaded`` (``Ahead`` is that thread).
    """
    if kind == "gzip":
        try:  # isal's C reader (private; public igzip wraps it in a buffer that copies)
            from isal.isal_zlib import _GzipReader

            reader = _GzipReader(cast(BinaryIO, raw), GZIP_INPUT_BYTES)
        except (ImportError, TypeError):  # pragma: no cover - an isal without it: the public way
            pass
        else:
            return Ahead(reader)
    return Ahead(cast(ReadsInto, decompressor(kind, raw)))
