"""The walker's view of the tar stream: windows of bytes, refilled and consumed."""

from __future__ import annotations

import lzma
import mmap
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from ..errors import LayerFormatError
from .compression import DECOMPRESSOR_ERRORS

CHUNK = 1 << 20


class Window:
    """Hands the walker windows of the tar stream: a memoryview (zero copy) or stream chunks."""

    __slots__ = ("stream", "base", "sha", "progress")
    populates = False
    """Whether windows come without their page-table entries (the walker may map them ahead)."""

    def __init__(
        self, stream: IO[bytes] | None, sha: Any, progress: Callable[[int], None] | None
    ) -> None:
        self.stream = stream
        self.base = 0  # stream offset of the current window's first byte
        self.sha = sha
        self.progress = progress

    def _pull(self, size: int) -> bytes:
        if self.stream is None:
            return b""
        try:
            data = self.stream.read(size)
        except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
            raise LayerFormatError(f"corrupt compressed data ({describe(exc)})") from exc
        except Exception as exc:  # zstandard's and isal's errors have no common base
            if type(exc).__name__ in DECOMPRESSOR_ERRORS:
                kind = DECOMPRESSOR_ERRORS[type(exc).__name__]
                raise LayerFormatError(f"corrupt {kind} data ({describe(exc)})") from exc
            raise
        if data:
            if self.sha is not None:
                self.sha.update(data)
            if self.progress is not None:
                self.progress(len(data))
        return data

    def refill(self, view: memoryview, pos: int, need: int) -> tuple[memoryview, int]:
        """A window whose unread part starts at 0 and holds ``need`` bytes, or fewer at the end."""
        if self.stream is None:
            return view, pos
        if pos == len(view):  # the usual case: the next chunk, as it is (no copy)
            data = self._pull(max(CHUNK, need))
            if len(data) >= need or not data:
                self.base += pos
                return memoryview(data), 0
            parts = [data]
        else:
            parts = [view[pos:].tobytes()]
        avail = len(parts[0])
        while avail < need:
            data = self._pull(max(CHUNK, need - avail))
            if not data:
                break
            parts.append(data)
            avail += len(data)
        self.base += pos
        return memoryview(b"".join(parts)), 0

    def consume(self, view: memoryview, pos: int, n: int, hasher: Any) -> tuple[memoryview, int]:
        """Skip n bytes from pos, feeding them to hasher when one is given."""
        remaining = n
        while True:
            step = min(len(view) - pos, remaining)
            if hasher is not None and step:
                hasher.update(view[pos : pos + step])
            pos += step
            remaining -= step
            if not remaining:
                return view, pos
            view, pos = self._next(pos, remaining), 0

    def _next(self, end: int, remaining: int) -> memoryview:
        """The window after the current one (``end``: its length) for ``remaining`` more bytes
        of file data; raises when the stream ends first."""
        data = self._pull(min(CHUNK * 4, max(remaining, CHUNK)))
        if not data:
            raise LayerFormatError("truncated tar stream: file data ends early")
        self.base += end
        return memoryview(data)

    def skip(self, view: memoryview, pos: int, n: int) -> tuple[memoryview, int]:
        """Skip n bytes from pos (file data or padding nobody reads)."""
        if len(view) - pos >= n:
            return view, pos + n
        if self.stream is None:
            raise LayerFormatError("truncated tar stream: file data ends early")
        return self.consume(view, pos, n, None)

    def drain(self) -> None:
        """Read the stream to its end (trailing padding, further gzip members, zstd frames)."""
        while self._pull(CHUNK * 4):
            pass


MAP_BYTES = 16 << 20
"""Bytes of a mapped blob in view at once: the pages of at most about four windows (the one
walked, the one before, one whose big files are still being hashed, one being unmapped) are in
the process's RSS, however big the layer (a whole-file map would count every page)."""


@dataclass(frozen=True, slots=True)
class FileSpan:
    """An uncompressed blob as ``size`` bytes at ``offset`` of an open regular file (``fd``),
    walked through memory maps: no byte is copied or read twice."""

    fd: int
    offset: int
    size: int


def _unmap(mapped: mmap.mmap) -> None:
    """Unmap now unless the walker still holds a view of it (then it goes with its last view)."""
    try:
        mapped.close()
    except BufferError:
        pass


class MappedWindow(Window):
    """Hands the walker windows of a ``FileSpan``, each a fresh read-only map of the file.

    A window is mapped without its page-table entries (``populates``): mapping them costs about
    as much as hashing the bytes, and the compiled walker has a thread map them ahead of it
    while it walks (native/tarwalk.c, ``MADV_POPULATE_READ``; the pure-Python walker's reads
    fault them in). Unmapping a window costs a third of that: the window before last is
    unmapped on an unmapper thread (``munmap`` runs without the GIL). ``close()`` waits for it.
    """

    __slots__ = ("span", "seen", "_map_bytes", "_unmapper", "_held", "_unmapping")
    populates = True

    def __init__(
        self,
        span: FileSpan,
        progress: Callable[[int], None] | None,
    ) -> None:
        super().__init__(None, None, progress)
        self.span = span
        self.seen = 0  # blob bytes reported to progress
        self._map_bytes = MAP_BYTES
        self._unmapper: ThreadPoolExecutor | None = None
        self._held: list[mmap.mmap] = []  # handed to the walker, newest last
        self._unmapping: list[Future[None]] = []  # handed to the unmapper, oldest first

    def _map(self, start: int, need: int) -> memoryview:
        """The blob from offset ``start``: at least ``need`` bytes unless it ends first."""
        self.base = start
        span = self.span
        end = min(span.size, start + max(self._map_bytes, need))
        if end <= start:
            return memoryview(b"")
        at = span.offset + start
        aligned = at - at % mmap.ALLOCATIONGRANULARITY
        try:
            if os.fstat(span.fd).st_size < span.offset + end:
                raise LayerFormatError("the file was truncated while it was read")
            mapped = mmap.mmap(
                span.fd, span.offset + end - aligned, mmap.MAP_SHARED, mmap.PROT_READ,
                offset=aligned,
            )  # fmt: skip
        except OSError as exc:
            raise LayerFormatError(f"cannot map the layer ({describe(exc)})") from exc
        self._held.append(mapped)
        if len(self._held) > 2:  # the walker is done with all but the last two windows
            if self._unmapper is None:
                self._unmapper = ThreadPoolExecutor(1, thread_name_prefix="layerscope-unmap")
            unmapping = self._unmapping
            if len(unmapping) >= 2:
                # the unmapper needs the GIL, which the compiled walker holds for a whole window:
                # wait (without the GIL) for the oldest, or windows queued for it pile up mapped
                # (700 MiB of file pages in the RSS on a 2 GiB layer)
                unmapping.pop(0).result()
            unmapping.append(self._unmapper.submit(_unmap, self._held.pop(0)))
        if self.progress is not None and end > self.seen:
            self.progress(end - self.seen)
            self.seen = end
        return memoryview(mapped)[at - aligned :]

    def close(self) -> None:
        """Wait for the unmapper thread (the walker's last windows go with its views)."""
        self._held.clear()
        self._unmapping.clear()
        if self._unmapper is not None:
            self._unmapper.shutdown(wait=True)
            self._unmapper = None

    def refill(self, view: memoryview, pos: int, need: int) -> tuple[memoryview, int]:
        return self._map(self.base + pos, need), 0

    def _next(self, end: int, remaining: int) -> memoryview:
        view = self._map(self.base + end, 0)
        if not view:
            raise LayerFormatError("truncated tar stream: file data ends early")
        return view

    def skip(self, view: memoryview, pos: int, n: int) -> tuple[memoryview, int]:
        if len(view) - pos >= n:
            return view, pos + n
        start = self.base + pos + n
        if start > self.span.size:
            raise LayerFormatError("truncated tar stream: file data ends early")
        self.base = start  # mapped when the walker next asks for bytes
        return memoryview(b""), 0

    def drain(self) -> None:
        """Nothing to read: the rest of the blob only counts for the progress display."""
        if self.progress is not None and self.span.size > self.seen:
            self.progress(self.span.size - self.seen)
            self.seen = self.span.size


def describe(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
