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
"""Bytes of a mapped blob in view at once: the pages of at most about three windows (the one
walked, the next one being mapped, the last one being unmapped) are in the process's RSS,
however big the layer (a whole-file map would count every page)."""

AHEAD_OVERLAP = 64 << 10
"""The next window is mapped from this many bytes before the current one ends: the walker asks
for its next window at the end of the current one, or at a header that straddles it."""

_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
"""MAP_POPULATE (Linux) maps a window's cached pages in one call instead of a fault each."""


@dataclass(frozen=True, slots=True)
class FileSpan:
    """An uncompressed blob as ``size`` bytes at ``offset`` of an open regular file (``fd``),
    walked through memory maps: no byte is copied or read twice."""

    fd: int
    offset: int
    size: int


class _Mapping:
    """One read-only map of ``[start, end)`` of a blob (``view``), made on the mapper thread."""

    __slots__ = ("start", "end", "map", "error", "skip")

    def __init__(self, span: FileSpan, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.map: mmap.mmap | None = None
        self.error: LayerFormatError | None = None
        at = span.offset + start
        aligned = at - at % mmap.ALLOCATIONGRANULARITY
        try:
            if os.fstat(span.fd).st_size < span.offset + end:
                raise LayerFormatError("the file was truncated while it was read")
            self.map = mmap.mmap(
                span.fd, span.offset + end - aligned, _MAP_FLAGS, mmap.PROT_READ, offset=aligned
            )
        except OSError as exc:
            self.error = LayerFormatError(f"cannot map the layer ({describe(exc)})")
        except LayerFormatError as exc:
            self.error = exc
        self.skip = at - aligned

    def view(self, start: int) -> memoryview:
        """The mapped bytes from blob offset ``start`` on."""
        if self.error is not None:
            raise self.error
        assert self.map is not None
        return memoryview(self.map)[self.skip + start - self.start :]


def _unmap(mapping: _Mapping) -> None:
    """Unmap now unless the walker still holds a view of it (then it goes with its last view)."""
    if mapping.map is not None:
        try:
            mapping.map.close()
        except BufferError:
            pass


def _drop(done: Future[_Mapping]) -> None:
    """Unmap a window mapped ahead that the walker did not ask for."""
    if done.exception() is None:
        _unmap(done.result())


class MappedWindow(Window):
    """Hands the walker windows of a ``FileSpan``, each a fresh read-only map of the file.

    Mapping a window (``MAP_POPULATE``: its page-table entries) and unmapping it cost about as
    much as hashing its bytes, so both run on a mapper thread (``mmap`` releases the GIL): while
    the walker walks one window, the next one, from ``AHEAD_OVERLAP`` before the current one's
    end, is mapped, and the one before is unmapped. A window asked for elsewhere (after a
    skipped file) is mapped on the spot. ``close()`` waits for the mapper."""

    __slots__ = ("span", "seen", "_map_bytes", "_mapper", "_ahead", "_held")

    def __init__(
        self,
        span: FileSpan,
        progress: Callable[[int], None] | None,
    ) -> None:
        super().__init__(None, None, progress)
        self.span = span
        self.seen = 0  # blob bytes reported to progress
        self._map_bytes = MAP_BYTES
        self._mapper: ThreadPoolExecutor | None = None
        self._ahead: tuple[int, int, Future[_Mapping]] | None = None
        self._held: list[_Mapping] = []  # handed to the walker, newest last

    def _map(self, start: int, need: int) -> memoryview:
        """The blob from offset ``start``: at least ``need`` bytes unless it ends first."""
        self.base = start
        span = self.span
        end = min(span.size, start + max(self._map_bytes, need))
        if end <= start:
            return memoryview(b"")
        mapping = self._take_ahead(start, need)
        if mapping is None:
            mapping = _Mapping(span, start, end)
        view = mapping.view(start)
        self._held.append(mapping)
        if len(self._held) > 2:  # the walker is done with all but the last two windows
            self._run(_unmap, self._held.pop(0))
        if mapping.end < span.size:
            ahead = max(start, mapping.end - min(AHEAD_OVERLAP, self._map_bytes // 4))
            stop = min(span.size, ahead + self._map_bytes)
            self._ahead = (ahead, stop, self._run(_Mapping, span, ahead, stop))
        if self.progress is not None and mapping.end > self.seen:
            self.progress(mapping.end - self.seen)
            self.seen = mapping.end
        return view

    def _take_ahead(self, start: int, need: int) -> _Mapping | None:
        """The window mapped ahead when it holds ``need`` bytes from ``start`` (or the rest of
        the blob); it is dropped otherwise."""
        if self._ahead is None:
            return None
        ahead, stop, future = self._ahead
        self._ahead = None
        if ahead <= start < stop and (start + need <= stop or stop == self.span.size):
            return future.result()
        future.add_done_callback(_drop)
        return None

    def _run(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if self._mapper is None:
            self._mapper = ThreadPoolExecutor(1, thread_name_prefix="layerscope-map")
        return self._mapper.submit(fn, *args)

    def close(self) -> None:
        """Wait for the mapper thread and unmap what it mapped ahead (the walker's windows go
        with its views)."""
        if self._ahead is not None:
            self._ahead[2].add_done_callback(_drop)
            self._ahead = None
        self._held.clear()
        if self._mapper is not None:
            self._mapper.shutdown(wait=True)
            self._mapper = None

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
