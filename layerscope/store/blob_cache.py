"""Content-addressed cache of verified blobs (``--keep-blobs``): ``blobs/sha256/<hex>``.

A blob is written to a temporary file in its final directory, hashed on the way, and moved into
place with ``os.replace`` only when its digest matches: a partial or wrong blob never lands, and
readers never see a half-written file. Last use is the file's mtime (``open`` refreshes it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from ..errors import DigestMismatchError, StoreError
from ..model import Digest

BLOBS_DIRNAME = "blobs"
TEMP_PREFIX = ".tmp-"
STALE_TEMP_S = 3600.0
"""Temporary files older than this are leftovers of a crashed writer; prune removes them."""

_HEX_LENGTH = {"sha256": 64, "sha512": 128}


@dataclass(frozen=True, slots=True)
class BlobCacheInfo:
    """What ``layerscope cache info`` shows about kept blobs."""

    path: Path
    blob_count: int
    blob_bytes: int


@dataclass(frozen=True, slots=True)
class BlobPruneResult:
    """What a prune removed from the blob cache (temporary leftovers included in the bytes)."""

    blob_count: int
    bytes_freed: int


def _split(digest: str) -> tuple[str, str]:
    algorithm, _, hex_part = digest.partition(":")
    length = _HEX_LENGTH.get(algorithm)
    if length is None or not re.fullmatch(f"[0-9a-f]{{{length}}}", hex_part):
        raise StoreError(f"not a sha256/sha512 digest: {digest[:80]!r}")
    return algorithm, hex_part


class BlobWriter:
    """Receives a blob's bytes and hashes them; handed out by ``BlobCache.writer``."""

    def __init__(self, handle: BinaryIO, algorithm: str) -> None:
        self._handle = handle
        self._hash = hashlib.new(algorithm)
        self.bytes_written = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append ``data``; returns its length."""
        self._handle.write(data)
        self._hash.update(data)
        self.bytes_written += len(data)
        return len(data)

    def digest(self) -> Digest:
        """The digest of what was written so far."""
        return Digest(f"{self._hash.name}:{self._hash.hexdigest()}")


class BlobCache:
    """Verified blobs stored by digest under ``root/blobs`` (root defaults to ``cache_dir()``)."""

    def __init__(self, root: Path | str | None = None) -> None:
        if root is None:
            from ..config_paths import cache_dir

            root = cache_dir()
        self.root = Path(root) / BLOBS_DIRNAME

    def path_for(self, digest: Digest) -> Path:
        """Where the blob with ``digest`` lives (whether or not it is there)."""
        algorithm, hex_part = _split(digest)
        return self.root / algorithm / hex_part

    def has(self, digest: Digest) -> bool:
        """Whether the blob is cached."""
        return self.path_for(digest).is_file()

    def open(self, digest: Digest) -> BinaryIO | None:
        """The cached blob opened for reading, or None; marks it used."""
        path = self.path_for(digest)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read cached blob {path}: {exc.strerror or exc}") from exc
        with contextlib.suppress(OSError):
            os.utime(path)
        return handle

    @contextlib.contextmanager
    def writer(self, digest: Digest, *, durable: bool = True) -> Iterator[BlobWriter]:
        """Write a blob; it is kept only if the block ends normally and the bytes hash to
        ``digest`` (else DigestMismatchError, and nothing is left behind). ``durable=False``
        skips the fsync, for blobs whose reader checks their hash anyway (a crash may then
        leave a torn file under the final name, which that check turns away)."""
        final = self.path_for(digest)
        algorithm = final.parent.name
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=final.parent)
        except OSError as exc:
            raise StoreError(
                f"cannot write to blob cache {self.root}: {exc.strerror or exc}"
            ) from exc
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                sink = BlobWriter(handle, algorithm)
                yield sink
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
            got = sink.digest()
            if got != digest:
                raise DigestMismatchError(
                    f"blob {digest[:19]}… hashed to {got[:19]}… "
                    f"({sink.bytes_written} bytes); not cached"
                )
            os.chmod(temp, 0o644)
            os.replace(temp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def info(self) -> BlobCacheInfo:
        """Number and total size of cached blobs."""
        count = size = 0
        for _, stat in self._blobs():
            count += 1
            size += stat.st_size
        return BlobCacheInfo(self.root, count, size)

    def prune(
        self, older_than: timedelta | None = None, *, now: float | None = None
    ) -> BlobPruneResult:
        """Delete blobs unused for longer than ``older_than`` (None: all) and stale temp files."""
        now = time.time() if now is None else now
        cutoff = float("inf") if older_than is None else now - older_than.total_seconds()
        count = freed = 0
        for path, stat in self._blobs(include_temp=True):
            temp = path.name.startswith(TEMP_PREFIX)
            if (temp and stat.st_mtime < now - STALE_TEMP_S) or (
                not temp and stat.st_mtime < cutoff
            ):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    freed += stat.st_size
                    count += 0 if temp else 1
        return BlobPruneResult(count, freed)

    def _blobs(self, include_temp: bool = False) -> Iterator[tuple[Path, os.stat_result]]:
        for algorithm in _HEX_LENGTH:
            folder = self.root / algorithm
            try:
                names = os.listdir(folder)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreError(f"cannot list blob cache {folder}: {exc.strerror or exc}") from exc
            for name in names:
                if name.startswith(TEMP_PREFIX) and not include_temp:
                    continue
                path = folder / name
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # removed meanwhile by another process
                yield path, stat


__all__ = ["BlobCache", "BlobCacheInfo", "BlobPruneResult", "BlobWriter"]
