"""How sources read a layer: the walker, keeping the bytes of the package databases; and the
gzip size of a blob stored uncompressed (``gzip_estimate``).

``analysis.packages.PACKAGE_DATABASES`` is the one definition of those files; ``layers`` may
not import analysis, so the sources hand it to the walker here (docs/architecture.md). Every
layer read through a source keeps the same files, so the layer cache holds the same contents
whichever source filled it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import IO

from ..analysis.packages import PACKAGE_DATABASES
from ..layers import FileSpan, LayerScan, estimate_gzip_bytes
from ..layers import scan_layer as _scan_layer
from ..model import Progress


def scan_layer(
    blob: IO[bytes] | memoryview | FileSpan,
    *,
    want_diff_id: bool = False,
    want_digest: bool = False,
    progress: Progress | None = None,
) -> LayerScan:
    """``layers.scan_layer`` keeping the package databases (``Layer.contents``)."""
    return _scan_layer(
        blob,
        keep=PACKAGE_DATABASES,
        want_diff_id=want_diff_id,
        want_digest=want_digest,
        progress=progress,
    )


def gzip_estimate(blob: IO[bytes], size: int) -> int:
    """The estimated gzip size of an uncompressed blob (``layers.gzip_estimate``), read through
    a seekable stream over it (a sample of chunks: a small share of the blob's bytes)."""

    def read_at(offset: int, length: int) -> bytes:
        blob.seek(offset)
        parts: list[bytes] = []
        while length > 0 and (part := blob.read(length)):
            parts.append(part)
            length -= len(part)
        return b"".join(parts)

    return estimate_gzip_bytes(read_at, size)


def with_gzip_estimate(scan: LayerScan, blob: IO[bytes], size: int) -> LayerScan:
    """``scan`` with the estimated gzip size of its blob when the blob is stored uncompressed:
    what a push would send (the walk has just read these bytes: they are in the page cache)."""
    if scan.compression != "none":
        return scan
    return replace(scan, gzip_estimate_bytes=gzip_estimate(blob, size))
