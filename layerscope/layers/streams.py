"""Byte streams around a layer blob: counting and hashing what is read, reading a memoryview,
putting back peeked bytes, and a sha256 on a second thread."""

from __future__ import annotations

import hashlib
import io
import queue
import threading
from typing import IO, Any


class BackgroundSha256:
    """sha256 computed on another thread (hashlib releases the GIL), so it costs no wall time
    on a second core while the tar walk keeps the first one busy."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._run, name="layer-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._sha.update(chunk)

    def update(self, data: bytes) -> None:
        self._queue.put(data)

    def hexdigest(self) -> str:
        self._queue.put(None)
        self._thread.join()
        return self._sha.hexdigest()

    def abandon(self) -> None:
        """Stop the thread without a result (the scan failed)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class CountingHashingReader(io.RawIOBase):
    """Wraps a binary stream; counts the bytes read through it and optionally sha256s them."""

    def __init__(self, raw: IO[bytes], want_hash: bool) -> None:
        self._raw = raw
        self.count = 0
        self._hash = hashlib.sha256() if want_hash else None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b)
        data = self._raw.read(len(view))
        n = len(data)
        view[:n] = data
        self.count += n
        if self._hash is not None and n:
            self._hash.update(data)
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        if self._hash is not None and data:
            self._hash.update(data)
        return data

    def hexdigest(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None


class MemoryReader(io.RawIOBase):
    """A read-only stream over a memoryview (no copy of the whole buffer)."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        end = (
            len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        )
        data = self._view[self._pos : end].tobytes()
        self._pos = end
        return data

    def readinto(self, b: Any) -> int:
        view = memoryview(b)
        n = min(len(view), len(self._view) - self._pos)
        view[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n


class _Prefixed(io.RawIOBase):
    """A stream that first returns already-read bytes, then the rest of the underlying stream."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                data = self._prefix + self._rest.read()
                self._prefix = b""
                return data
            data = self._prefix[:size]
            self._prefix = self._prefix[size:]
            if len(data) < size:
                data += self._rest.read(size - len(data))
            return data
        return self._rest.read(size)

    def readinto(self, b: Any) -> int:
        view = memoryview(b)
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


def peek(stream: IO[bytes]) -> tuple[bytes, IO[bytes]]:
    """The first 8 bytes of ``stream``, and a stream that still yields them."""
    head = stream.read(8)
    return head, prefixed(head, stream)


def prefixed(head: bytes, rest: IO[bytes]) -> IO[bytes]:
    """A stream that yields ``head`` (bytes already read from ``rest``) and then ``rest``."""
    return _Prefixed(head, rest)  # type: ignore[return-value]
