"""The tar walker's rare paths, one named helper each: PAX records and GNU long names, sparse
files, device nodes, whiteout / opaque markers and format metadata, hard links.

The walk (``walk.py``) handles a plain entry inline and calls these only for what is unusual.
"""

from __future__ import annotations

import posixpath

from ..errors import LayerFormatError
from ..model import EntryKind, FileEntry
from ..tree import check_link_target, normalize_member_path
from .headers import (
    BLOCK,
    MAX_META_BYTES,
    MAX_SIZE,
    device_numbers,
    num,
    octal,
    parse_pax,
    pax_int,
)
from .window import Window

# Names that eStargz / zstd:chunked add at the layer root: metadata, not image files.
FORMAT_METADATA_NAMES = frozenset(
    {"stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"}
)

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
WHITEOUT_META_PREFIX = ".wh..wh."

_SPARSE_SIZE_KEYS = ("GNU.sparse.realsize", "GNU.sparse.size")

Fields = tuple[str, str, int, int, int, float, tuple[tuple[str, str], ...], dict[str, str]]
"""name, link, size, uid, gid, mtime, xattrs and the PAX records of one entry."""


class Meta:
    """The PAX records and GNU long names read so far: ``pax``, ``long_name`` and
    ``long_link`` apply to the next entry, ``pax_global`` to every later one."""

    __slots__ = ("pax", "pax_global", "long_name", "long_link")

    def __init__(self) -> None:
        self.pax: dict[str, str] = {}
        self.pax_global: dict[str, str] = {}
        self.long_name: str | None = None
        self.long_link: str | None = None

    def add(self, typeflag: bytes, data: bytes) -> None:
        """Take one metadata record (typeflag L, K, g, x or X)."""
        if typeflag == b"L":
            self.long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        elif typeflag == b"K":
            self.long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        elif typeflag == b"g":
            self.pax_global.update(parse_pax(data))
        else:
            self.pax.update(parse_pax(data))

    def apply(self, name: str, link: str, size: int, uid: int, gid: int, mtime: float) -> Fields:
        """The entry's fields with the pending records applied (long names first, then PAX);
        the per-entry records are used up."""
        xattrs: tuple[tuple[str, str], ...] = ()
        if self.long_name is not None:
            name, self.long_name = self.long_name, None
        if self.long_link is not None:
            link, self.long_link = self.long_link, None
        records = {**self.pax_global, **self.pax} if self.pax_global else self.pax
        if records:
            name = records.get("path", name)
            link = records.get("linkpath", link)
            if "size" in records:
                size = pax_int(records["size"], "size")
            if "uid" in records:
                uid = pax_int(records["uid"], "uid")
            if "gid" in records:
                gid = pax_int(records["gid"], "gid")
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
            self.pax = {}
        return name, link, size, uid, gid, mtime, xattrs, records


def read_meta(
    typeflag: bytes, size: int, view: memoryview, pos: int, source: Window, meta: Meta | None
) -> tuple[memoryview, int, Meta]:
    """Read the metadata record whose data starts at ``pos`` into ``meta`` (a new one if None)."""
    if size > MAX_META_BYTES:
        raise LayerFormatError(f"tar metadata record of {size} bytes is too large")
    padded = (size + BLOCK - 1) & ~(BLOCK - 1)
    if len(view) - pos < padded:
        view, pos = source.refill(view, pos, padded)
        if len(view) - pos < padded:
            raise LayerFormatError("truncated tar stream: metadata ends early")
    data = view[pos : pos + size].tobytes()
    meta = meta if meta is not None else Meta()
    meta.add(typeflag, data)
    return view, pos + padded, meta


def is_sparse(records: dict[str, str]) -> bool:
    """Do these PAX records describe a GNU sparse file (PAX formats 0.0 to 1.0)?"""
    return bool(records) and any(key in records for key in _SPARSE_SIZE_KEYS)


def sparse_file(
    typeflag: bytes, header: memoryview, records: dict[str, str], path: str,
    view: memoryview, pos: int, source: Window,
) -> tuple[str, int, bytes, memoryview, int]:  # fmt: skip
    """A sparse file's (path, real size, tag its content hash starts with, view, pos): an old
    GNU one (typeflag S, its map read from the header and the extension blocks after it) or a
    PAX one (GNU.sparse records, which may rename it)."""
    if typeflag == b"S":
        spans, view, pos = sparse_map_old(header, view, pos, source)
        real = num(header[483:495].tobytes(), "sparse real size")
        tag = b"sparse:" + repr(spans).encode()
    else:
        real = pax_int(records.get(_SPARSE_SIZE_KEYS[0], records.get(_SPARSE_SIZE_KEYS[1], "0")),
                       "sparse size")  # fmt: skip
        tag = b"sparse:"
        if "GNU.sparse.name" in records:
            path = normalize_member_path(records["GNU.sparse.name"])
    if not 0 <= real <= MAX_SIZE:
        raise LayerFormatError(f"bad tar header: {path} declares a sparse size of {real} bytes")
    return path, real, tag, view, pos


def sparse_map_old(
    header: memoryview, view: memoryview, pos: int, source: Window
) -> tuple[list[tuple[int, int]], memoryview, int]:
    """The span map of an old-style GNU sparse file, with its extension blocks consumed."""
    spans: list[tuple[int, int]] = []

    def read_spans(area: bytes, count: int) -> None:
        for i in range(count):
            off = octal(area[i * 24 : i * 24 + 12], "sparse offset")
            length = octal(area[i * 24 + 12 : i * 24 + 24], "sparse size")
            if off or length:
                spans.append((off, length))

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


def link_or_device(
    kind: EntryKind, path: str, link: str, header: memoryview,
    entries: list[FileEntry], index_of: dict[str, int],
    mode: int, uid: int, gid: int, mtime: float,
) -> tuple[str | None, str | None, str | None, tuple[int, int] | None] | None:  # fmt: skip
    """(link target, content hash, body hash, device numbers) of a symlink whose target has
    ``..`` in it, a hard link, a device node or a FIFO; None for an overlayfs whiteout that
    leaked into the tar (a character device 0/0), which is recorded as a whiteout instead.

    A hard link gets the hashes of its target when this tar holds it already.
    """
    if kind is EntryKind.SYMLINK:
        return check_link_target(path, link, kind), None, None, None
    if kind is EntryKind.HARDLINK:
        target = check_link_target(path, link, kind)
        at = index_of.get(target)
        if at is None:
            return target, None, None, None
        return target, entries[at].content_hash, entries[at].body_hash, None
    if kind is EntryKind.CHAR or kind is EntryKind.BLOCK:
        numbers = device_numbers(header)
        if kind is EntryKind.CHAR and numbers == (0, 0):
            whiteout = FileEntry(path, EntryKind.WHITEOUT, 0, mode, uid, gid, mtime)
            put(entries, index_of, whiteout, key=path + "\0whiteout")
            return None
        return None, None, None, numbers
    return None, None, None, None


def put_marker(
    entries: list[FileEntry], index_of: dict[str, int],
    path: str, name: str, mode: int, uid: int, gid: int, mtime: float,
) -> bool:  # fmt: skip
    """Record a whiteout or opaque marker, or drop format metadata; False for an ordinary file
    whose path merely looks like one."""
    parent, _, base = path.rpartition("/")
    parent = parent or "/"
    if parent == "/" and base in FORMAT_METADATA_NAMES:
        return True
    if not base.startswith(WHITEOUT_PREFIX):
        return False
    if base == OPAQUE_MARKER:
        marker = FileEntry(parent, EntryKind.OPAQUE, 0, mode, uid, gid, mtime)
    elif base.startswith(WHITEOUT_META_PREFIX):
        return True  # AUFS metadata (.wh..wh.plnk and friends)
    else:
        target = base[len(WHITEOUT_PREFIX) :]
        if not target or target in (".", ".."):
            raise LayerFormatError(f"invalid whiteout entry {name!r}")
        whited = posixpath.join(parent, target)
        marker = FileEntry(whited, EntryKind.WHITEOUT, 0, mode, uid, gid, mtime)
    put(entries, index_of, marker, key=marker.path + "\0" + marker.kind.value)
    return True


def put(entries: list[FileEntry], index_of: dict[str, int], entry: FileEntry, key: str) -> None:
    """Append, or replace an earlier entry with the same key (later duplicates win)."""
    at = index_of.get(key)
    if at is None:
        index_of[key] = len(entries)
        entries.append(entry)
    else:
        entries[at] = entry
