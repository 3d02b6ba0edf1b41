"""Stream registry blobs into the layer reader: verify sha256, resume with Range, pull in parallel.

Nothing here speaks HTTP: the registry client hands in an ``opener`` that returns the blob's bytes
from a given offset. A layer reaches the layer index only after both its blob digest and its
diff_id were checked.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from ..errors import (
    DigestMismatchError,
    LayerFormatError,
    LayerscopeError,
    RegistryUnavailableError,
)
from ..layers import BackgroundSha256, LayerScan
from ..model import Digest, LayerContents, LayerIndex, Progress
from .layer_scan import scan_layer

READ_AT_MOST = 256 << 10
"""The most a blob read takes from the connection at once, whatever the reader asks for. The
decompressor asks for 8 MiB: each such read made fresh multi-MiB buffers (in urllib3 and
http.client, and the copy) whose pages the kernel zeroed and mapped, then unmapped when they
were freed. On a registry of 8 MB layers that was half the CPU of reading a blob (a read of
504 MB of blobs: 0.96 s of CPU on the decompressing thread at 8 MiB, 0.47 s at 256 KiB, 0.5 s
at 128 KiB; buffers this size are reused by malloc instead)."""
RESUME_ATTEMPTS = 5
"""How many times a dropped blob download is resumed before giving up."""
DOWNLOAD_ATTEMPTS = 2
"""Whole downloads of one layer when its bytes do not match the digest (a flipped byte)."""


class BlobReader(Protocol):
    """An open blob download: ``read`` returns b'' at its end; ``start`` is its first offset."""

    start: int

    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


class BlobSink(Protocol):
    """Receives a blob's bytes as they download (``--keep-blobs``)."""

    def write(self, data: bytes) -> int: ...


class BlobKeeper(Protocol):
    """Where verified blobs are kept (``store.BlobCache``): a blob lands only if it verifies."""

    def open(self, digest: Digest) -> BinaryIO | None: ...

    def writer(
        self, digest: Digest, *, durable: bool = True
    ) -> AbstractContextManager[BlobSink]: ...


Opener = Callable[[Digest, int], BlobReader]
"""``opener(digest, offset)``: the blob from ``offset`` (the reader says where it really starts)."""

TransientErrors: tuple[type[BaseException], ...] = (OSError, EOFError)
"""Errors of a read that a resume can fix; the client may widen this (urllib3's ProtocolError)."""


class Aborted(LayerscopeError):
    """Another layer failed; this download stops."""


class VerifyingStream(io.RawIOBase):
    """The bytes of one blob, hashed with sha256 and counted; dropped connections are resumed."""

    def __init__(
        self,
        digest: Digest,
        size: int | None,
        opener: Opener,
        *,
        label: str,
        transient: tuple[type[BaseException], ...] = TransientErrors,
        abort: threading.Event | None = None,
        advance: Callable[[int], None] | None = None,
        tee: Callable[[bytes], object] | None = None,
    ) -> None:
        self._tee = tee
        self.digest = digest
        self.size = size
        self.label = label
        self._opener = opener
        self._transient = transient
        self._abort = abort
        self._advance = advance
        # on its own thread: the decompressor's thread reading this stream only decompresses
        self._sha = BackgroundSha256()
        self.count = 0
        self._resumes = 0
        self._reader: BlobReader | None = None
        self._eof = False

    def readable(self) -> bool:
        return True

    def _open(self) -> BlobReader:
        reader = self._opener(self.digest, self.count)
        skip = self.count - reader.start
        while skip > 0:  # the server ignored Range: drop what we already have
            data = reader.read(min(skip, 1 << 20))
            if not data:
                break
            skip -= len(data)
        return reader

    def _read_some(self, size: int) -> bytes:
        while True:
            if self._abort is not None and self._abort.is_set():
                raise Aborted(f"{self.label}: stopped")
            try:
                if self._reader is None:
                    self._reader = self._open()
                data = self._reader.read(size)
                if data or self.size is None or self.count >= self.size:
                    return data
                raise EOFError("connection closed before the end of the blob")
            except self._transient as exc:
                self._close_reader()
                self._resumes += 1
                if self._resumes > RESUME_ATTEMPTS:
                    raise RegistryUnavailableError(
                        f"{self.label}: download kept failing after {RESUME_ATTEMPTS} resumes "
                        f"({type(exc).__name__})"
                    ) from exc

    def read(self, size: int = -1) -> bytes:
        if self._eof:
            return b""
        want = READ_AT_MOST if size is None or size < 0 else min(size, READ_AT_MOST)
        if self.size is not None:
            want = min(want, max(0, self.size - self.count))
            if want == 0:
                self._eof = True
                return b""
        data = self._read_some(want)
        if not data:
            self._eof = True
            return b""
        self._sha.update(data)
        if self._tee is not None:
            self._tee(data)
        self.count += len(data)
        if self._advance is not None:
            self._advance(len(data))
        return data

    def readinto(self, b: Any) -> int:
        view = memoryview(b)
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def _close_reader(self) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close
                pass
            self._reader = None

    def close(self) -> None:
        self._close_reader()
        self._sha.abandon()  # (a no-op once finish() has the digest)
        super().close()

    def finish(self) -> None:
        """Read whatever is left and check the size and digest; raise DigestMismatchError."""
        while self.read(1 << 20):
            pass
        if self.size is not None and self.count != self.size:
            raise DigestMismatchError(
                f"{self.label}: blob has {self.count} bytes but the manifest says {self.size}"
            )
        actual = Digest("sha256:" + self._sha.hexdigest())
        if actual != self.digest:
            raise DigestMismatchError(
                f"{self.label}: blob hashes to {actual}, but the manifest says {self.digest}"
            )


@dataclass(frozen=True, slots=True)
class LayerJob:
    """One layer blob to fetch and read."""

    index: int
    digest: Digest
    size: int | None
    diff_id: Digest
    label: str


def pull_layer(
    job: LayerJob,
    opener: Opener,
    *,
    transient: tuple[type[BaseException], ...] = TransientErrors,
    abort: threading.Event | None = None,
    advance: Callable[[int], None] | None = None,
    keeper: BlobKeeper | None = None,
) -> LayerScan:
    """Download one layer while reading it; returns its scan once blob and diff_id verified.

    With a ``keeper``, a blob it already holds is read from there, and a downloaded one is
    written to it as it arrives (kept only when it verifies).
    """
    if not job.digest.startswith("sha256:"):
        raise LayerFormatError(f"{job.label}: unsupported digest algorithm in {job.digest}")
    kept = keeper.open(job.digest) if keeper is not None else None
    if kept is not None:
        opener = _file_opener(kept)
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        store = keeper.writer(job.digest) if keeper is not None and kept is None else None
        try:
            with store if store is not None else nullcontext() as sink:
                stream = VerifyingStream(
                    job.digest,
                    job.size,
                    opener,
                    label=job.label,
                    transient=transient,
                    abort=abort,
                    advance=advance,
                    tee=sink.write if sink is not None else None,
                )
                try:
                    try:
                        scan = scan_layer(stream, want_diff_id=True)  # type: ignore[arg-type]
                    except LayerFormatError as exc:
                        stream.finish()  # a corrupt download shows as a digest mismatch instead
                        raise LayerFormatError(f"{job.label}: {exc}") from exc
                    stream.finish()
                finally:
                    stream.close()
        except DigestMismatchError:
            if attempt == DOWNLOAD_ATTEMPTS:
                raise
            continue
        finally:
            if kept is not None:
                kept.close()
        if scan.diff_id != job.diff_id:
            raise DigestMismatchError(
                f"{job.label}: uncompressed content hashes to {scan.diff_id}, "
                f"but the config says {job.diff_id}"
            )
        return scan
    raise AssertionError("unreachable")  # pragma: no cover


class _FileReader:
    """A kept blob, read like a download from ``start``."""

    def __init__(self, handle: BinaryIO, start: int) -> None:
        handle.seek(start)
        self._handle = handle
        self.start = start

    def read(self, size: int) -> bytes:
        return self._handle.read(size)

    def close(self) -> None:
        return None  # the handle is closed by pull_layer


def _file_opener(handle: BinaryIO) -> Opener:
    return lambda _digest, offset: _FileReader(handle, offset)


class _LockedProgress:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._lock = threading.Lock()

    def advance(self, done: int) -> None:
        with self._lock:
            self._progress.advance(done)


def pull_layers(
    jobs: Sequence[LayerJob],
    opener: Opener,
    *,
    concurrency: int,
    index: LayerIndex | None,
    progress: Progress | None,
    transient: tuple[type[BaseException], ...] = TransientErrors,
    keeper: BlobKeeper | None = None,
) -> dict[Digest, LayerScan]:
    """Fetch and read ``jobs`` (distinct digests), at most ``concurrency`` at once.

    Each verified layer is put in ``index`` as soon as it is done. The first failure stops the
    others and is raised.
    """
    abort = threading.Event()
    advance = _LockedProgress(progress).advance if progress is not None else None
    results: dict[Digest, LayerScan] = {}

    def run(job: LayerJob) -> tuple[Digest, LayerScan]:
        scan = pull_layer(
            job, opener, transient=transient, abort=abort, advance=advance, keeper=keeper
        )
        contents = LayerContents(scan.entries, scan.size_bytes, scan.tar_size_bytes, scan.contents)
        if index is not None:
            index.put(job.diff_id, contents, digest=job.digest)
        return job.digest, scan

    if not jobs:
        return results
    if progress is not None:
        total = sum(job.size or 0 for job in jobs)
        progress.stage(f"pulling {len(jobs)} layer{'s' if len(jobs) != 1 else ''}", total or None)
    workers = max(1, min(concurrency, len(jobs)))
    # Largest first: the longest download starts at once and the pool drains evenly.
    ordered = sorted(jobs, key=lambda j: -(j.size or 0))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layerscope-pull") as pool:
        futures: list[Future[tuple[Digest, LayerScan]]] = [pool.submit(run, j) for j in ordered]
        done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            abort.set()
            for future in futures:
                future.cancel()
            wait(futures)
            errors = [f.exception() for f in futures if not f.cancelled() and f.exception()]
            first = next((e for e in errors if not isinstance(e, Aborted)), errors[0])
            assert first is not None
            raise first
        for future in futures:
            digest, scan = future.result()
            results[digest] = scan
    return results
