"""Byte streams around a layer blob: counting and hashing what is read, reading a memoryview,
putting back peeked bytes, a sha256 on a second thread, and decompression running ahead of the
walk on a thread of its own."""

from __future__ import annotations

import hashlib
import io
import queue
import threading
from typing import IO, Any, Protocol, cast

AHEAD_CHUNK = 4 << 20
"""Bytes of decompressed stream per chunk handed from the decompressing thread to the walker:
a multiple of the tar block size, so that a chunk boundary never splits a tar header and the
walker takes each chunk without copying it."""

AHEAD_DEPTH = 3
"""Chunks decompressed ahead of the walk, at most (about 12 MB per layer being read)."""


class ReadsInto(Protocol):
    """A stream that decompresses into the caller's buffer (isal's reader, BZ2File, ...)."""

    def readinto(self, buffer: Any, /) -> int: ...

    def close(self) -> None: ...


def has_readinto(stream: IO[bytes]) -> bool:
    """Whether ``stream`` reads into a buffer itself (a stream with only ``read`` has
    RawIOBase's ``readinto``, which raises)."""
    method = getattr(type(stream), "readinto", io.RawIOBase.readinto)
    return method not in (io.RawIOBase.readinto, io.BufferedIOBase.readinto)


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


class Ahead:
    """The decompressed bytes of ``stream``, read on a thread of its own into chunks of
    ``AHEAD_CHUNK`` bytes, at most ``AHEAD_DEPTH`` of them ahead of the reader.

    The decompressors release the GIL while they inflate, so decompression runs on one core
    while the walk (and the diff_id sha256) run on the other. ``read`` returns a whole chunk
    (whatever size is asked for), ``b""`` at the end; an exception raised by the decompressor
    is raised again, unchanged, by the ``read`` that reaches it. ``close`` stops and joins the
    thread (it must be called, also when the reader stops early or fails).
    """

    def __init__(self, stream: ReadsInto) -> None:
        self._stream = stream
        self._chunk = AHEAD_CHUNK
        self._queue: queue.Queue[memoryview | BaseException] = queue.Queue(maxsize=AHEAD_DEPTH)
        self._stop = False
        self._done = False
        self._thread = threading.Thread(target=self._run, name="layer-decompress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        readinto, put = self._stream.readinto, self._queue.put
        while not self._stop:
            view = memoryview(bytearray(self._chunk))
            n = 0
            try:  # fill the chunk: only the last one is short
                while n < self._chunk and (got := readinto(view[n:])):
                    n += got
            except BaseException as exc:  # noqa: BLE001 - handed to the reader, raised there
                put(exc)
                return
            put(view[:n] if n < self._chunk else view)
            if not n:
                return

    def read(self, size: int = -1) -> memoryview | bytes:
        if self._done:
            return b""
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if not item:
            self._done = True
        return item

    def close(self) -> None:
        """Stop the thread (it ends after the chunk it is decompressing) and wait for it."""
        self._stop = True
        while self._thread.is_alive():
            try:  # make room for the one chunk the thread may still put
                self._queue.get_nowait()
            except queue.Empty:
                self._thread.join(0.05)
        self._stream.close()


class CountingHashingReader(io.RawIOBase):
    """Wraps a binary stream; counts the bytes read through it and optionally sha256s them."""

    def __init__(self, raw: IO[bytes], want_hash: bool) -> None:
        self._raw = raw
        self._direct = has_readinto(raw)
        self.count = 0
        self._hash = hashlib.sha256() if want_hash else None

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if self._direct:  # straight into the caller's buffer: no bytes object, no copy
            n = cast(ReadsInto, self._raw).readinto(view)
        else:
            data = self._raw.read(len(view))
            n = len(data)
            view[:n] = data
        self.count += n
        if self._hash is not None and n:
            self._hash.update(view[:n])
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
        if not self._prefix and has_readinto(self._rest):
            return cast(ReadsInto, self._rest).readinto(b)
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
