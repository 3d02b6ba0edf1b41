"""How sources read a layer: the walker, keeping the bytes of the package databases; and the
gzip size of a blob stored uncompressed (``gzip_estimate``).

``analysis.packages.PACKAGE_DATABASES`` is the one definition of those files; ``layers`` may
not import analysis, so the sources hand it to the walker here (docs/architecture.md). Every
layer read through a source keeps the same files, so the layer cache holds the same contents
whichever source filled it.
"""

from __future__ import annotations

import os
import threading
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
    """``layers.scan_layer`` keeping the package databases (``Layer.contents``). A
    ``FileSpan`` (a local uncompressed blob) also gets its ``gzip_estimate_bytes``, sampled on
    another thread while it is walked (zlib runs without the GIL): the layer is done when the
    walk is."""
    estimate = _Estimate(blob) if isinstance(blob, FileSpan) else None
    try:
        scan = _scan_layer(
            blob,
            keep=PACKAGE_DATABASES,
            want_diff_id=want_diff_id,
            want_digest=want_digest,
            progress=progress,
        )
    except BaseException:
        if estimate is not None:
            estimate.join()  # it reads the caller's file: done before the caller closes it
        raise
    if estimate is not None:
        scan = replace(scan, gzip_estimate_bytes=estimate.result())
    return scan


class _Estimate(threading.Thread):
    """``estimate_gzip_bytes`` of a ``FileSpan`` on its own thread (``pread``: no shared file
    position); ``result()`` joins it and re-raises what it raised."""

    def __init__(self, span: FileSpan) -> None:
        super().__init__(name="layerscope-gzip-estimate", daemon=True)
        self._span = span
        self._value: int | None = None
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        span = self._span

        def read_at(offset: int, length: int) -> bytes:
            return os.pread(span.fd, max(0, min(length, span.size - offset)), span.offset + offset)

        try:
            self._value = estimate_gzip_bytes(read_at, span.size)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
            self._error = exc

    def result(self) -> int:
        self.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


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
    if scan.compression != "none" or scan.gzip_estimate_bytes is not None:
        return scan  # (scan_layer estimates a FileSpan's while it walks it)
    return replace(scan, gzip_estimate_bytes=gzip_estimate(blob, size))
