"""Random access to the files of an image archive (a tar) or an image layout (a directory).

A tar is indexed once (member name -> offset, size); a member is then read with ``pread`` in
large chunks, so memory stays flat however big the layers are (a memory map of the whole file
would count every page of a multi-GB archive in the process's RSS). An uncompressed layer that
needs no hash on the way is walked through maps of 16 MiB windows instead (``file_span``,
``layers.FileSpan``): its bytes are not copied out of the page cache. A compressed outer
archive (``docker save | gzip``) is first decompressed into a spool file in layerscope's cache
directory, removed on close.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from ..errors import ImageFormatError, NotFoundError, UnsafePathError
from ..layers import FileSpan, decompressor, sniff_compression
from ..model import Progress


class BlobStore(Protocol):
    """Files of an archive or layout, by normalised relative path."""

    label: str

    def has(self, name: str) -> bool: ...

    def read_bytes(self, name: str, limit: int = ...) -> bytes: ...

    def open(self, name: str) -> IO[bytes]: ...

    def open_detached(self, name: str) -> IO[bytes]:
        """Like ``open``, but usable after the store is closed (the caller closes it)."""
        ...

    def size(self, name: str) -> int: ...

    def names(self) -> list[str]: ...

    def close(self) -> None: ...


MAX_JSON_BYTES = 64 << 20
"""Largest manifest/config/index we will parse."""


def clean_name(name: str) -> str:
    """Normalise a member name: strip ``./`` and leading ``/``; reject ``..`` escapes."""
    stripped = name.lstrip("/")
    while stripped.startswith("./"):
        stripped = stripped[2:].lstrip("/")
    norm = posixpath.normpath(stripped) if stripped else "."
    if norm == ".." or norm.startswith("../"):
        raise UnsafePathError(f"archive member {name!r} escapes the archive")
    return norm


@dataclass(frozen=True, slots=True)
class _Member:
    offset: int
    size: int
    link: str | None  # resolved target name for symlink / hardlink members


class TarBlobStore:
    """An uncompressed tar file, indexed once, members read with pread."""

    def __init__(self, path: Path, *, label: str | None = None, spool: bool = False) -> None:
        self.label = label or str(path)
        self._path = path
        self._spool = spool
        self._file = open(path, "rb")  # noqa: SIM115 - kept open while the store is in use
        self._size = os.fstat(self._file.fileno()).st_size
        self._members: dict[str, _Member] = {}
        try:
            self._index()
        except BaseException:
            self.close()
            raise

    def _index(self) -> None:
        try:
            with tarfile.open(fileobj=self._file, mode="r:") as tar:
                members = tar.getmembers()
        except tarfile.TarError as exc:
            raise ImageFormatError(f"{self.label}: not a readable tar archive ({exc})") from exc
        except EOFError as exc:
            raise ImageFormatError(f"{self.label}: truncated tar archive") from exc
        links: dict[str, str] = {}
        for info in members:
            name = clean_name(info.name)
            if info.issym():
                target = info.linkname
                base = posixpath.dirname(name)
                joined = (
                    target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
                )
                links[name] = clean_name(joined)
            elif info.islnk():
                links[name] = clean_name(info.linkname)
            elif info.isfile():
                if info.offset_data + info.size > self._size:
                    raise ImageFormatError(
                        f"{self.label}: truncated archive ({name} declares {info.size} bytes "
                        f"past the end of the file)"
                    )
                self._members[name] = _Member(info.offset_data, info.size, None)
        for name, target in links.items():
            resolved = target
            for _ in range(16):
                if resolved in links:
                    resolved = links[resolved]
                else:
                    break
            if resolved in self._members:
                self._members.setdefault(name, self._members[resolved])
        if not members:
            raise ImageFormatError(f"{self.label}: empty tar archive")

    def has(self, name: str) -> bool:
        return clean_name(name) in self._members

    def _member(self, name: str) -> _Member:
        member = self._members.get(clean_name(name))
        if member is None:
            raise NotFoundError(f"{self.label}: {name} is referenced but missing from the archive")
        return member

    def size(self, name: str) -> int:
        return self._member(name).size

    def open(self, name: str) -> IO[bytes]:
        member = self._member(name)
        return _Slice(self._file.fileno(), member.offset, member.size)  # type: ignore[return-value]

    def open_detached(self, name: str) -> IO[bytes]:
        member = self._member(name)
        fd = os.dup(self._file.fileno())  # outlives the store (and an unlinked spool file)
        return _Slice(fd, member.offset, member.size, owns_fd=True)  # type: ignore[return-value]

    def identity(self, name: str) -> str | None:
        """What names this member's bytes while the file is unchanged: device, inode, size,
        mtime and ctime of the archive, the member's offset and size (None for a spool file)."""
        if self._spool:
            return None
        member = self._member(name)
        st = os.fstat(self._file.fileno())
        return _identity(st, member.offset, member.size)

    def read_bytes(self, name: str, limit: int = MAX_JSON_BYTES) -> bytes:
        member = self._member(name)
        if member.size > limit:
            raise ImageFormatError(
                f"{self.label}: {name} is {member.size} bytes, too large to parse"
            )
        return os.pread(self._file.fileno(), member.size, member.offset)

    def names(self) -> list[str]:
        return sorted(self._members)

    def close(self) -> None:
        self._file.close()
        if self._spool:
            try:
                self._path.unlink()
            except OSError:
                pass


class DirBlobStore:
    """An OCI image layout directory."""

    def __init__(self, root: Path) -> None:
        self.label = str(root)
        self._root = root.resolve()

    def _path(self, name: str) -> Path:
        path = (self._root / clean_name(name)).resolve()
        if self._root not in path.parents and path != self._root:
            raise UnsafePathError(f"{self.label}: {name} resolves outside the layout")
        return path

    def has(self, name: str) -> bool:
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"{self.label}: {name} is referenced but missing") from None

    def read_bytes(self, name: str, limit: int = MAX_JSON_BYTES) -> bytes:
        size = self.size(name)
        if size > limit:
            raise ImageFormatError(f"{self.label}: {name} is {size} bytes, too large to parse")
        return self._path(name).read_bytes()

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(self._path(name), "rb", buffering=0)  # noqa: SIM115 - caller closes it
        except FileNotFoundError:
            raise NotFoundError(f"{self.label}: {name} is referenced but missing") from None

    def open_detached(self, name: str) -> IO[bytes]:
        return self.open(name)

    def identity(self, name: str) -> str | None:
        """Device, inode, size, mtime and ctime of the blob file."""
        st = self._path(name).stat()
        return _identity(st, 0, st.st_size)

    def names(self) -> list[str]:
        return sorted(str(p.relative_to(self._root)) for p in self._root.rglob("*") if p.is_file())

    def close(self) -> None:
        return None


def _identity(st: os.stat_result, offset: int, size: int) -> str:
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{offset}:{size}"


class _Slice(io.RawIOBase):
    """A read-only stream over ``size`` bytes at ``offset`` of a file descriptor (``pread``)."""

    def __init__(self, fd: int, offset: int, size: int, *, owns_fd: bool = False) -> None:
        self._fd = fd
        self._start = offset
        self._pos = offset
        self._end = offset + size
        self._owns_fd = owns_fd

    def span(self) -> FileSpan:
        """The whole slice as a ``FileSpan`` (walked through memory maps; valid while open)."""
        return FileSpan(self._fd, self._start, self._end - self._start)

    def close(self) -> None:
        if self._owns_fd and not self.closed:
            os.close(self._fd)
        super().close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Positions are from the member's start (the gzip estimate reads chunks here and there)."""
        base = {io.SEEK_SET: self._start, io.SEEK_CUR: self._pos, io.SEEK_END: self._end}[whence]
        self._pos = min(self._end, max(self._start, base + offset))
        return self._pos - self._start

    def tell(self) -> int:
        return self._pos - self._start

    def read(self, size: int = -1) -> bytes:
        left = self._end - self._pos
        want = left if size is None or size < 0 else min(size, left)
        if want <= 0:
            return b""
        data = os.pread(self._fd, want, self._pos)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._end - self._pos)
        if want <= 0:
            return 0
        got = os.preadv(self._fd, [view[:want]], self._pos)
        self._pos += got
        return got


def file_span(stream: IO[bytes]) -> FileSpan | None:
    """The blob a stream of ``open`` reads, as a ``FileSpan`` of its file (None for other
    streams); valid while the stream is open."""
    if isinstance(stream, _Slice):
        return stream.span()
    if isinstance(stream, io.FileIO):
        return FileSpan(stream.fileno(), 0, os.fstat(stream.fileno()).st_size)
    return None


def default_spool_dir() -> Path:
    """Where exports and compressed outer archives are spooled (inside the cache directory)."""
    from ..config_paths import cache_dir

    return cache_dir() / "spool"


def open_tar_store(
    path: Path, spool_dir: Path | None = None, progress: Progress | None = None
) -> TarBlobStore:
    """Open an archive file; a compressed outer archive is decompressed into ``spool_dir``
    (default: the cache directory's) first. An uncompressed one needs no cache directory."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except IsADirectoryError:
        raise ImageFormatError(f"{path}: is a directory, not an archive") from None
    except OSError as exc:
        raise ImageFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    kind = sniff_compression(head)
    if kind == "none":
        return TarBlobStore(path)
    spool_dir = spool_dir or default_spool_dir()
    spool_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="outer-", suffix=".tar", dir=spool_dir)
    try:
        if progress is not None:
            progress.stage(f"decompressing {kind} archive", path.stat().st_size)
        with open(path, "rb") as raw, os.fdopen(fd, "wb") as out:
            _copy_decompressed(kind, raw, out, progress, str(path))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return TarBlobStore(Path(tmp), label=str(path), spool=True)


def _copy_decompressed(
    kind: str, raw: IO[bytes], out: IO[bytes], progress: Progress | None, label: str
) -> None:
    stream = decompressor(kind, raw)
    last = 0
    try:
        while True:
            try:
                chunk = stream.read(4 << 20)
            except Exception as exc:  # noqa: BLE001 - every decompressor has its own error type
                what = "truncated" if isinstance(exc, EOFError) else "corrupt"
                raise ImageFormatError(
                    f"{label}: {what} {kind}-compressed archive ({exc})"
                ) from exc
            if not chunk:
                break
            out.write(chunk)
            if progress is not None:
                pos = raw.tell()
                progress.advance(pos - last)
                last = pos
    finally:
        stream.close()
