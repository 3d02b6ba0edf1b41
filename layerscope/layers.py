"""Stream one layer blob: sniff its compression, walk its tar headers, hash file contents.

Nothing is extracted and nothing is written. The walker is our own (``tarfile`` costs about 2 s per
100k entries): it reads 512-byte headers from a buffer and feeds file contents to xxh3 without
copying when the blob is an uncompressed slice of a memory-mapped archive.
"""

from __future__ import annotations

import bz2
import dataclasses
import hashlib
import io
import lzma
import os
import posixpath
import queue
import struct
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, cast

import xxhash

from .errors import LayerFormatError
from .model import (
    KEPT_CONTENT_MAX_BYTES,
    KEPT_SUFFIXES,
    Digest,
    EntryKind,
    FileEntry,
    Progress,
    keeps_contents,
)
from .tree import check_link_target, normalize_member_path

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"

BLOCK = 512
CHUNK = 1 << 20
MAX_META_BYTES = 1 << 20
"""Largest PAX / GNU long-name payload we accept (Go's archive/tar uses the same bound)."""

# Names that eStargz / zstd:chunked add at the layer root: metadata, not image files.
FORMAT_METADATA_NAMES = frozenset(
    {"stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"}
)

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
WHITEOUT_META_PREFIX = ".wh..wh."


def _load_native() -> Callable[..., tuple[int, int, int]] | None:
    """The compiled hot loop (native/tarwalk.c), or None: not built (no compiler when the
    package was installed) or switched off with ``LAYERSCOPE_PURE_PYTHON=1``."""
    if os.environ.get("LAYERSCOPE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _tarwalk  # type: ignore[attr-defined]
    except ImportError:
        return None
    if tuple(f.name for f in dataclasses.fields(FileEntry)) != _tarwalk.FIELDS:
        return None  # FileEntry gained a field native/tarwalk.c does not set yet
    _tarwalk.configure(
        FileEntry,
        (EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK, EntryKind.HARDLINK, EntryKind.FIFO),
        tuple(s.encode() for s in KEPT_SUFFIXES),
        tuple(s.encode() for s in FORMAT_METADATA_NAMES),
        KEPT_CONTENT_MAX_BYTES,
    )
    return cast(Callable[..., tuple[int, int, int]], _tarwalk.walk)


_KIND_BY_TYPE = {
    b"0": EntryKind.FILE,
    b"\0": EntryKind.FILE,
    b"7": EntryKind.FILE,
    b"1": EntryKind.HARDLINK,
    b"2": EntryKind.SYMLINK,
    b"3": EntryKind.CHAR,
    b"4": EntryKind.BLOCK,
    b"5": EntryKind.DIR,
    b"6": EntryKind.FIFO,
    b"S": EntryKind.FILE,  # GNU sparse (old format)
}


def sniff_compression(head: bytes) -> str:
    """Name the compression of a blob from its first bytes: gzip, zstd, bzip2, xz or none."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(BZIP2_MAGIC) and len(head) >= 4 and head[3:4].isdigit():
        return "bzip2"
    return "none"


@dataclass(frozen=True, slots=True)
class LayerScan:
    """What reading one layer blob found."""

    entries: tuple[FileEntry, ...]
    size_bytes: int
    """Sum of the regular-file sizes in the tar (``docker history`` / dive layer size)."""
    tar_size_bytes: int
    """Bytes of the uncompressed tar stream up to its end-of-archive marker."""
    compression: str
    blob_bytes: int | None
    """Bytes of the stored blob that were read, when they were counted."""
    diff_id: Digest | None
    """sha256 of the uncompressed stream, when asked for."""
    digest: Digest | None
    """sha256 of the stored blob, when asked for."""
    contents: tuple[tuple[str, bytes], ...] = ()
    """(path, bytes) of the files ``model.keeps_contents`` selects, sorted by path."""


class _BackgroundSha256:
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


class _CountingHashingReader(io.RawIOBase):
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


class _MemoryReader(io.RawIOBase):
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


def _decompressor(kind: str, raw: IO[bytes]) -> IO[bytes]:
    """A stream that yields the decompressed bytes of ``raw``, reading every member/frame."""
    if kind == "gzip":
        try:
            from isal import igzip_threaded

            return cast(IO[bytes], igzip_threaded.open(raw, "rb", threads=1))  # type: ignore[no-untyped-call]
        except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
            import gzip

            return cast(IO[bytes], gzip.GzipFile(fileobj=raw))
    if kind == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return cast(IO[bytes], reader)
    if kind == "bzip2":
        return bz2.BZ2File(raw)
    if kind == "xz":
        return lzma.LZMAFile(raw)
    return raw


MAX_SIZE = 2**63 - 1
"""The largest size a file or a layer can have (tar's and SQLite's limit); beyond it a header
lies."""

_DECOMPRESSOR_ERRORS = {"ZstdError": "zstd", "IsalError": "gzip"}
"""Error classes (by name: importing them eagerly costs start-up) of the decompressors."""


class _Source:
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
            raise LayerFormatError(f"corrupt compressed data ({_describe(exc)})") from exc
        except Exception as exc:  # zstandard's and isal's errors have no common base
            if type(exc).__name__ in _DECOMPRESSOR_ERRORS:
                kind = _DECOMPRESSOR_ERRORS[type(exc).__name__]
                raise LayerFormatError(f"corrupt {kind} data ({_describe(exc)})") from exc
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

    def drain(self) -> None:
        """Read the stream to its end (trailing padding, further gzip members, zstd frames)."""
        while self._pull(CHUNK * 4):
            pass


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _octal(field: bytes | memoryview, what: str) -> int:
    raw = bytes(field)
    if raw and raw[0] & 0x80:  # GNU base-256
        body = bytearray(raw)
        negative = bool(body[0] & 0x40)
        body[0] &= 0x7F
        value = int.from_bytes(bytes(body), "big")
        if negative:
            value -= 1 << (8 * len(body) - 1)
        return value
    text = raw.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise LayerFormatError(f"bad tar header: {what} field {text!r} is not a number") from None


def _cstr(field: bytes | memoryview) -> str:
    raw = bytes(field).split(b"\0", 1)[0]
    return raw.decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise LayerFormatError("bad PAX header record") from None
        if length <= 0 or pos + length > len(data):
            raise LayerFormatError("bad PAX header record length")
        record = data[space + 1 : pos + length]
        if not record.endswith(b"\n") or b"=" not in record:
            raise LayerFormatError("bad PAX header record")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _checksum_ok(header: memoryview) -> bool:
    try:
        stored = _octal(header[148:156], "checksum")
    except LayerFormatError:
        return False
    raw = bytes(header)
    unsigned = sum(raw[:148]) + 256 + sum(raw[156:])
    if unsigned == stored:
        return True
    signed = sum(b - 256 if b > 127 else b for b in raw[:148]) + 256
    signed += sum(b - 256 if b > 127 else b for b in raw[156:])
    return signed == stored


def _sparse_map_old(
    header: memoryview, view: memoryview, pos: int, source: _Source
) -> tuple[list[tuple[int, int]], memoryview, int]:
    """The span map of an old-style GNU sparse file, with its extension blocks consumed."""
    spans: list[tuple[int, int]] = []

    def read_spans(area: bytes, count: int) -> None:
        for i in range(count):
            off = _octal(area[i * 24 : i * 24 + 12], "sparse offset")
            num = _octal(area[i * 24 + 12 : i * 24 + 24], "sparse size")
            if off or num:
                spans.append((off, num))

    raw = header.tobytes()
    read_spans(raw[386:482], 4)
    extended = raw[482]
    guard = 0
    while extended:
        guard += 1
        if guard > 4096:
            raise LayerFormatError("bad GNU sparse header")
        if len(view) - pos < BLOCK:
            view, pos = source.refill(view, pos, BLOCK)
            if len(view) - pos < BLOCK:
                raise LayerFormatError("truncated tar stream: sparse map ends early")
        ext = view[pos : pos + BLOCK].tobytes()
        pos += BLOCK
        read_spans(ext[:504], 21)
        extended = ext[504]
    return spans, view, pos


def scan_layer(
    blob: IO[bytes] | memoryview,
    *,
    want_diff_id: bool = False,
    want_digest: bool = False,
    progress: Progress | None = None,
    pure_python: bool = False,
) -> LayerScan:
    """Read one layer blob (compressed or not) and return its entries.

    ``blob`` is a stream, or a memoryview of the whole blob (uncompressed blobs are then walked
    without copying). ``want_diff_id`` / ``want_digest`` add sha256 of the uncompressed / stored
    bytes. ``pure_python`` skips the compiled walker (the oracle the tests compare it with).
    """
    native = None if pure_python else NATIVE_WALK
    advance = progress.advance if progress is not None else None
    if isinstance(blob, memoryview):
        compression = sniff_compression(blob[:8].tobytes())
        if compression == "none":
            entries, size, tar_size, kept = _walk(blob, _Source(None, None, None), native)
            if advance is not None:
                advance(len(blob))
            hexd = hashlib.sha256(blob).hexdigest() if (want_diff_id or want_digest) else None
            digest = Digest("sha256:" + hexd) if hexd else None
            return LayerScan(
                entries,
                size,
                tar_size,
                compression,
                len(blob),
                digest if want_diff_id else None,
                digest if want_digest else None,
                kept,
            )
        raw_reader: IO[bytes] = _MemoryReader(blob)  # type: ignore[assignment]
    else:
        head, raw_reader = _peek(blob)
        compression = sniff_compression(head)
    counter = _CountingHashingReader(raw_reader, want_digest)
    stream = _decompressor(compression, counter)  # type: ignore[arg-type]
    sha = _BackgroundSha256() if want_diff_id else None
    source = _Source(stream, sha, advance if compression == "none" else None)
    try:
        entries, size, tar_size, kept = _walk(memoryview(b""), source, native)
        source.drain()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise LayerFormatError(f"corrupt {compression} layer ({_describe(exc)})") from exc
    finally:
        if sha is not None and sys.exc_info()[0] is not None:
            sha.abandon()
        if stream is not cast(IO[bytes], counter):
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a broken decompressor must not mask the error
                pass
    if compression != "none" and advance is not None:
        advance(counter.count)
    digest_hex = counter.hexdigest()
    return LayerScan(
        entries,
        size,
        tar_size,
        compression,
        counter.count,
        Digest("sha256:" + sha.hexdigest()) if sha is not None else None,
        Digest("sha256:" + digest_hex) if digest_hex else None,
        kept,
    )


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


def _peek(stream: IO[bytes]) -> tuple[bytes, IO[bytes]]:
    head = stream.read(8)
    return head, prefixed(head, stream)


def prefixed(head: bytes, rest: IO[bytes]) -> IO[bytes]:
    """A stream that yields ``head`` (bytes already read from ``rest``) and then ``rest``."""
    return _Prefixed(head, rest)  # type: ignore[return-value]


_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s6s2s32s32s8s8s155s")
_ZERO_BLOCK = bytes(BLOCK)
_META_TYPES = frozenset({b"x", b"g", b"L", b"K", b"X"})


def _num(field: bytes, what: str) -> int:
    try:
        return int(field.strip(b" \0") or b"0", 8)
    except ValueError:
        return _octal(field, what)


class _Keeper:
    """A hasher stand-in that feeds xxh3 and keeps a copy of the bytes."""

    __slots__ = ("hasher", "parts")

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.parts: list[bytes] = []

    def update(self, data: Any) -> None:
        self.hasher.update(data)
        self.parts.append(bytes(data))


PYC_SUFFIX = ".pyc"
PYC_HEADER_BYTES = 16
"""A ``.pyc`` file's header: magic, flags, then the source mtime and size (or a source hash).
Its ``FileEntry.body_hash`` is the xxh3-64 of the bytes after it, so two compilations of the
same source at different times compare equal apart from the header."""


class _PycHasher:
    """A hasher stand-in that feeds the whole file to xxh3 and the bytes after the ``.pyc``
    header to a second xxh3, for files read in several pieces."""

    __slots__ = ("hasher", "body", "seen")

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.body = xxhash.xxh3_64()
        self.seen = 0

    def update(self, data: Any) -> None:
        self.hasher.update(data)
        skip = PYC_HEADER_BYTES - self.seen
        self.seen += len(data)
        if skip <= 0:
            self.body.update(data)
        elif len(data) > skip:
            self.body.update(data[skip:])


_Walked = tuple[tuple[FileEntry, ...], int, int, tuple[tuple[str, bytes], ...]]


def _walk(
    view: memoryview, source: _Source, native: Callable[..., tuple[int, int, int]] | None = None
) -> _Walked:
    """Walk tar headers until end-of-archive; return entries, regular-file bytes, tar length and
    the contents of the files ``keeps_contents`` selects.

    ``native`` (the compiled walker) takes every run of ordinary entries that lies in the current
    window and stops at the first one it is unsure of, which this loop then handles. Without it,
    the hot path (a plain header with an ordinary name) does one struct unpack, an adler32-based
    checksum test and one xxh3 call per entry; everything unusual goes through slower general code.
    """
    entries: list[FileEntry] = []
    index_of: dict[str, int] = {}
    kept: dict[str, bytes] = {}
    total = 0
    pax_global: dict[str, str] = {}
    pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None
    first = True
    unpack = _HEADER.unpack_from
    adler = zlib.adler32
    xxh_hex = xxhash.xxh3_64_hexdigest
    kinds = _KIND_BY_TYPE
    FILE, DIR = EntryKind.FILE, EntryKind.DIR
    pos = 0
    while True:
        plain = long_name is None and long_link is None and not pax and not pax_global
        if native is not None and plain:
            pos, added, count = native(view, pos, entries, index_of)
            if count:
                total += added
                first = False
        if len(view) - pos < BLOCK:
            view, pos = source.refill(view, pos, BLOCK)
            left = len(view) - pos
            if left < BLOCK:
                if first and source.base + pos == 0:
                    raise LayerFormatError("empty layer blob (not a tar stream)")
                if left == 0:
                    break  # EOF without an end-of-archive marker: Go and GNU tar accept it
                raise LayerFormatError("truncated tar stream: partial header")
        (
            name_b,
            mode_b,
            uid_b,
            gid_b,
            size_b,
            mtime_b,
            chk_b,
            typeflag,
            link_b,
            magic,
            _ver,
            _un,
            _gn,
            major_b,
            minor_b,
            prefix_b,
        ) = unpack(view, pos)
        header = view[pos : pos + BLOCK]
        if name_b[0] == 0 and header == _ZERO_BLOCK:
            pos += BLOCK
            break  # end-of-archive (the second zero block, if any, is drained later)
        try:
            stored = int(chk_b.strip(b" \0") or b"-1", 8)
        except ValueError:
            stored = -1
        # adler32's low half is 1 + (sum of the bytes) mod 65521: the header checksum, for free.
        if ((adler(header) & 0xFFFF) - 1 - sum(chk_b) + 256 - stored) % 65521 and not _checksum_ok(
            header
        ):
            if first:
                raise LayerFormatError("not a tar stream (bad header checksum)")
            raise LayerFormatError(f"corrupt tar header at offset {source.base + pos}")
        first = False
        pos += BLOCK
        try:  # the usual octal fields, parsed inline (this loop runs once per tar entry)
            size = int(size_b.strip(b" \0") or b"0", 8)
        except ValueError:
            size = _num(size_b, "size")
        if size < 0:
            raise LayerFormatError("bad tar header: negative size")
        padded = (size + BLOCK - 1) & ~(BLOCK - 1)
        if typeflag in _META_TYPES:
            if size > MAX_META_BYTES:
                raise LayerFormatError(f"tar metadata record of {size} bytes is too large")
            if len(view) - pos < padded:
                view, pos = source.refill(view, pos, padded)
                if len(view) - pos < padded:
                    raise LayerFormatError("truncated tar stream: metadata ends early")
            data = view[pos : pos + size].tobytes()
            pos += padded
            if typeflag == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif typeflag == b"K":
                long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif typeflag == b"g":
                pax_global.update(_parse_pax(data))
            else:
                pax.update(_parse_pax(data))
            continue

        name = name_b.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if magic == b"ustar\x00" and prefix_b[0]:
            name = prefix_b.split(b"\0", 1)[0].decode("utf-8", "surrogateescape") + "/" + name
        mtime: float
        try:
            mode = int(mode_b.strip(b" \0") or b"0", 8) & 0o7777
            uid = int(uid_b.strip(b" \0") or b"0", 8)
            gid = int(gid_b.strip(b" \0") or b"0", 8)
            mtime = int(mtime_b.strip(b" \0") or b"0", 8)
        except ValueError:  # base-256 or garbage: the general parser says which
            mode = _num(mode_b, "mode") & 0o7777
            uid = _num(uid_b, "uid")
            gid = _num(gid_b, "gid")
            mtime = _num(mtime_b, "mtime")
        xattrs: tuple[tuple[str, str], ...] = ()
        link = ""
        if long_name is not None:
            name = long_name
            long_name = None
        if long_link is not None:
            link = long_link
            long_link = None
        elif link_b[0]:
            link = link_b.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        records = {**pax_global, **pax} if pax_global else pax
        if records:
            name = records.get("path", name)
            link = records.get("linkpath", link)
            if "size" in records:
                size = _pax_int(records["size"], "size")
                padded = (size + BLOCK - 1) & ~(BLOCK - 1)
            if "uid" in records:
                uid = _pax_int(records["uid"], "uid")
            if "gid" in records:
                gid = _pax_int(records["gid"], "gid")
            if "mtime" in records:
                try:
                    mtime = float(records["mtime"])
                except ValueError:
                    raise LayerFormatError("bad PAX mtime record") from None
            xattrs = tuple(
                sorted(
                    (k[13:], v.encode("utf-8", "surrogateescape").hex())
                    for k, v in records.items()
                    if k.startswith("SCHILY.xattr.")
                )
            )
            pax = {}

        kind = kinds.get(typeflag)
        if kind is None:
            # Unknown types: skip their data like Go's reader; they are not image files.
            view, pos = _skip(view, pos, padded, source)
            continue
        if "//" in name or "/." in name or name.startswith((".", "/")):
            path = normalize_member_path(name)
        else:
            path = "/" + name.rstrip("/")
        if path == "/":
            view, pos = _skip(view, pos, padded, source)
            continue
        if kind is FILE and name.endswith("/") and size == 0:
            kind = DIR

        content_hash: str | None = None
        body_hash: str | None = None
        entry_size = 0
        if kind is FILE:
            sparse_real: int | None = None
            sparse_tag = b""
            if typeflag == b"S":
                spans, view, pos = _sparse_map_old(header, view, pos, source)
                sparse_real = _num(header[483:495].tobytes(), "sparse real size")
                sparse_tag = b"sparse:" + repr(spans).encode()
            elif records and ("GNU.sparse.realsize" in records or "GNU.sparse.size" in records):
                sparse_real = _pax_int(
                    records.get("GNU.sparse.realsize", records.get("GNU.sparse.size", "0")),
                    "sparse size",
                )
                sparse_tag = b"sparse:"
                if "GNU.sparse.name" in records:
                    path = normalize_member_path(records["GNU.sparse.name"])
            if sparse_real is not None and not 0 <= sparse_real <= MAX_SIZE:
                raise LayerFormatError(
                    f"bad tar header: {path} declares a sparse size of {sparse_real} bytes"
                )
            keep = (
                not sparse_tag
                and size <= KEPT_CONTENT_MAX_BYTES
                and path.endswith(KEPT_SUFFIXES)  # cheap test first: most files are not kept
                and keeps_contents(path)
            )
            pyc = not sparse_tag and size >= PYC_HEADER_BYTES and path.endswith(PYC_SUFFIX)
            if not sparse_tag and len(view) - pos >= size:
                content_hash = xxh_hex(view[pos : pos + size])
                if pyc:
                    body_hash = xxh_hex(view[pos + PYC_HEADER_BYTES : pos + size])
                if keep:
                    kept[path] = view[pos : pos + size].tobytes()
                pos += size
            else:
                hasher = xxhash.xxh3_64()
                hasher.update(sparse_tag)
                sink: Any = _PycHasher(hasher) if pyc else hasher
                keeper = _Keeper(sink) if keep else None
                view, pos = source.consume(view, pos, size, keeper or sink)
                content_hash = hasher.hexdigest()
                if pyc:
                    body_hash = sink.body.hexdigest()
                if keeper is not None:
                    kept[path] = b"".join(keeper.parts)
            if padded != size:
                view, pos = _skip(view, pos, padded - size, source)
            entry_size = sparse_real if sparse_real is not None else size
            total += entry_size
        elif padded:
            view, pos = _skip(view, pos, padded, source)

        if ".wh." in path or (path.count("/") == 1 and path[1:] in FORMAT_METADATA_NAMES):
            special, marker = _marker(path, name, mode, uid, gid, mtime)
            if special:
                if marker is not None:
                    _put(entries, index_of, marker, key=marker.path + "\0" + marker.kind.value)
                continue

        link_target: str | None = None
        device: tuple[int, int] | None = None
        if kind is EntryKind.SYMLINK:
            link_target = check_link_target(path, link, kind) if ".." in link else link
        elif kind is EntryKind.HARDLINK:
            link_target = check_link_target(path, link, kind)
            at = index_of.get(link_target)
            if at is not None:
                content_hash, body_hash = entries[at].content_hash, entries[at].body_hash
        elif kind is EntryKind.CHAR or kind is EntryKind.BLOCK:
            device = (_num(major_b, "devmajor"), _num(minor_b, "devminor"))
            if kind is EntryKind.CHAR and device == (0, 0):
                # An overlayfs whiteout leaked into a tar: tolerate it as a whiteout.
                _put(
                    entries,
                    index_of,
                    FileEntry(path, EntryKind.WHITEOUT, 0, mode, uid, gid, mtime),
                    key=path + "\0whiteout",
                )
                continue
        entry = FileEntry(
            path,
            kind,
            entry_size,
            mode,
            uid,
            gid,
            mtime,
            link_target,
            content_hash,
            xattrs,
            device,
            body_hash,
        )
        at = index_of.setdefault(path, len(entries))
        if at == len(entries):
            entries.append(entry)
        else:
            entries[at] = entry
    if kept:
        # Only paths whose last entry in this tar is a regular file keep their bytes.
        final = {e.path: e.kind for e in entries if not e.is_marker}
        contents = tuple(sorted((p, b) for p, b in kept.items() if final.get(p) is FILE))
    else:
        contents = ()
    if total > MAX_SIZE:
        raise LayerFormatError(f"bad tar headers: the files' sizes add up to {total} bytes")
    return tuple(entries), total, source.base + pos, contents


def _skip(view: memoryview, pos: int, n: int, source: _Source) -> tuple[memoryview, int]:
    if len(view) - pos >= n:
        return view, pos + n
    if source.stream is None:
        raise LayerFormatError("truncated tar stream: file data ends early")
    return source.consume(view, pos, n, None)


def _pax_int(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise LayerFormatError(f"bad PAX {what} record {value!r}") from None
    if number < 0:
        raise LayerFormatError(f"bad PAX {what} record {value!r}")
    return number


def _marker(
    path: str, name: str, mode: int, uid: int, gid: int, mtime: float
) -> tuple[bool, FileEntry | None]:
    """Interpret whiteouts and format metadata: (special?, the marker entry or None to skip)."""
    parent, _, base = path.rpartition("/")
    parent = parent or "/"
    if parent == "/" and base in FORMAT_METADATA_NAMES:
        return True, None
    if not base.startswith(WHITEOUT_PREFIX):
        return False, None
    if base == OPAQUE_MARKER:
        return True, FileEntry(parent, EntryKind.OPAQUE, 0, mode, uid, gid, mtime)
    if base.startswith(WHITEOUT_META_PREFIX):
        return True, None  # AUFS metadata (.wh..wh.plnk and friends)
    target = base[len(WHITEOUT_PREFIX) :]
    if not target or target in (".", ".."):
        raise LayerFormatError(f"invalid whiteout entry {name!r}")
    return True, FileEntry(
        posixpath.join(parent, target), EntryKind.WHITEOUT, 0, mode, uid, gid, mtime
    )


def _put(entries: list[FileEntry], index_of: dict[str, int], entry: FileEntry, key: str) -> None:
    """Append, or replace an earlier entry with the same key (later duplicates win)."""
    at = index_of.get(key)
    if at is None:
        index_of[key] = len(entries)
        entries.append(entry)
    else:
        entries[at] = entry


NATIVE_WALK = _load_native()
"""The compiled walker's entry point, or None when the pure-Python walker does all the work."""
