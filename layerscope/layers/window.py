"""The walker's view of the tar stream: windows of bytes, refilled and consumed."""

from __future__ import annotations

import lzma
from collections.abc import Callable
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
            data = self._pull(min(CHUNK * 4, max(remaining, CHUNK)))
            if not data:
                raise LayerFormatError("truncated tar stream: file data ends early")
            self.base += pos
            view, pos = memoryview(data), 0

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


def describe(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
