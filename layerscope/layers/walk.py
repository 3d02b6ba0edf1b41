"""The tar walk: headers read from windows of the stream until the end-of-archive marker.

Only the common case is written out here: a plain header (octal numbers, a name that needs no
normalising), a regular file whose data lies in the window (one xxh3 call), a directory or a
symlink. Everything unusual goes through a named helper (``rare.py``: PAX records and GNU long
names, sparse files, devices, whiteouts, hard links; ``filedata.py``: data past the window),
and the compiled walker (``native.py``), when there, takes every run of plain entries before
this loop sees them.
"""

from __future__ import annotations

import zlib
from typing import Any

import xxhash

from ..errors import LayerFormatError
from ..model import EntryKind, FileEntry, KeptFiles
from ..tree import normalize_member_path
from .filedata import PYC_HEADER_BYTES, PYC_SUFFIX, file_data
from .headers import (
    BLOCK,
    HEADER,
    KIND_BY_TYPE,
    MAX_SIZE,
    META_TYPES,
    ZERO_BLOCK,
    checksum_ok,
    num,
    numbers,
)
from .native import NativeWalk, new_pending
from .rare import FORMAT_METADATA_NAMES, Fields, link_or_device, put_marker, read_meta
from .window import Window

NOTHING_KEPT = KeptFiles((), -1, lambda path: False)
"""Keep no file's bytes."""

Walked = tuple[tuple[FileEntry, ...], int, int, tuple[tuple[str, bytes], ...]]
"""entries, regular-file bytes, tar length, the kept contents."""

_NO_RECORDS: dict[str, str] = {}
_FILE, _DIR, _SYMLINK = EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK
_xxh_hex = xxhash.xxh3_64_hexdigest


def walk(
    view: memoryview, source: Window, keep: KeptFiles, native: NativeWalk | None = None
) -> Walked:
    """Walk tar headers until end-of-archive; return entries, regular-file bytes, tar length and
    the contents of the files ``keep`` selects. ``native`` (the compiled walker) takes every run
    of plain entries in the current window and stops at the first one it is unsure of; the big
    files it hands to its hash worker get their hashes by the time this returns (or raises)."""
    pending = new_pending() if native is not None else None
    try:
        return _walk(view, source, keep, native, pending)
    finally:
        if pending is not None:
            pending.finish()


def _walk(
    view: memoryview, source: Window, keep: KeptFiles, native: NativeWalk | None, pending: Any
) -> Walked:
    entries: list[FileEntry] = []
    index_of: dict[str, int] = {}
    kept: dict[str, bytes] = {}
    total, pos, first, meta = 0, 0, True, None
    populate = source.populates
    populated: memoryview | None = None
    unpack, adler, kinds = HEADER.unpack_from, zlib.adler32, KIND_BY_TYPE
    while True:
        if native is not None and meta is None:
            # pages are mapped ahead (a pthread) by the first call in a window only: a layer of
            # whiteouts comes back here once per entry, and a thread each time cost 50 us each
            fresh = populate and view is not populated
            populated = view
            pos, added, count = native(view, pos, entries, index_of, fresh, pending)
            if count:
                total, first = total + added, False
        if len(view) - pos < BLOCK:
            view, pos = source.refill(view, pos, BLOCK)
            if len(view) - pos < BLOCK:
                _stream_ends(first, len(view) - pos, source.base + pos)
                break  # EOF without an end-of-archive marker: Go and GNU tar accept it
        (name_b, mode_b, uid_b, gid_b, size_b, mtime_b, chk_b, typeflag, link_b, magic,
         prefix_b) = unpack(view, pos)  # fmt: skip
        header = view[pos : pos + BLOCK]
        if name_b[0] == 0 and header == ZERO_BLOCK:
            pos += BLOCK
            break  # end-of-archive (the second zero block, if any, is drained later)
        try:
            stored = int(chk_b.strip(b" \0") or b"-1", 8)
        except ValueError:
            stored = -1
        # adler32's low half is 1 + (sum of the bytes) mod 65521: the header checksum, for free.
        if ((adler(header) & 0xFFFF) - 1 - sum(chk_b) + 256 - stored) % 65521:
            _check_header(header, first, source.base + pos)
        first = False
        pos += BLOCK
        try:  # the usual octal fields, parsed inline (this loop runs once per tar entry)
            size = int(size_b.strip(b" \0") or b"0", 8)
        except ValueError:
            size = num(size_b, "size")
        if size < 0:
            raise LayerFormatError("bad tar header: negative size")
        if typeflag in META_TYPES:
            view, pos, meta = read_meta(typeflag, size, view, pos, source, meta)
            continue
        mtime: float
        try:
            mode = int(mode_b.strip(b" \0") or b"0", 8) & 0o7777
            uid = int(uid_b.strip(b" \0") or b"0", 8)
            gid = int(gid_b.strip(b" \0") or b"0", 8)
            mtime = int(mtime_b.strip(b" \0") or b"0", 8)
        except ValueError:  # base-256 or garbage: the general parser says which
            mode, uid, gid, mtime = numbers(mode_b, uid_b, gid_b, mtime_b)
        name = name_b.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if magic == b"ustar\x00" and prefix_b[0]:
            name = prefix_b.split(b"\0", 1)[0].decode("utf-8", "surrogateescape") + "/" + name
        link = link_b.split(b"\0", 1)[0].decode("utf-8", "surrogateescape") if link_b[0] else ""
        fields: Fields = (name, link, size, uid, gid, mtime, (), _NO_RECORDS)
        if meta is not None:
            fields = meta.apply(name, link, size, uid, gid, mtime)
            meta = meta if meta.pax_global else None
        kind = kinds.get(typeflag)
        if kind is EntryKind.HARDLINK and pending is not None:
            pending.finish()  # its target's hash may be on the way
        view, pos, added = _entry(
            kind, typeflag, header, fields, mode, view, pos, source, entries, index_of, keep, kept
        )
        total += added
    return _finish(entries, kept, total, source.base + pos)


def _entry(
    kind: EntryKind | None, typeflag: bytes, header: memoryview, fields: Fields, mode: int,
    view: memoryview, pos: int, source: Window,
    entries: list[FileEntry], index_of: dict[str, int], keep: KeptFiles, kept: dict[str, bytes],
) -> tuple[memoryview, int, int]:  # fmt: skip
    """Add the entry whose data starts at ``pos``: (view, pos after its data, the bytes it adds
    to the layer's regular-file total)."""
    name, link, size, uid, gid, mtime, xattrs, records = fields
    padded = (size + BLOCK - 1) & ~(BLOCK - 1)
    if kind is None:
        path = "/"  # unknown types: skip their data like Go's reader; they are not image files
    elif "//" in name or "/." in name or name.startswith((".", "/")):
        path = normalize_member_path(name)
    else:
        path = "/" + name.rstrip("/")
    if path == "/" or kind is None:
        view, pos = source.skip(view, pos, padded)
        return view, pos, 0
    if kind is _FILE and name.endswith("/") and size == 0:
        kind = _DIR
    chash = bhash = target = dev = None
    real = 0
    if kind is _FILE:
        if len(view) - pos >= padded and typeflag != b"S" and not records:
            real = size
            chash = _xxh_hex(view[pos : pos + size])
            if size >= PYC_HEADER_BYTES and path.endswith(PYC_SUFFIX):
                bhash = _xxh_hex(view[pos + PYC_HEADER_BYTES : pos + size])
            if size <= keep.max_bytes and path.endswith(keep.suffixes) and keep.wants(path):
                kept[path] = view[pos : pos + size].tobytes()
            pos += padded
        else:
            view, pos, path, real, chash, bhash = file_data(
                typeflag, header, records, path, size, view, pos, source, keep, kept
            )
    elif padded:
        view, pos = source.skip(view, pos, padded)
    if ".wh." in path or (path.count("/") == 1 and path[1:] in FORMAT_METADATA_NAMES):
        if put_marker(entries, index_of, path, name, mode, uid, gid, mtime):
            return view, pos, real
    if kind is _SYMLINK and ".." not in link:
        target = link
    elif kind is not _FILE and kind is not _DIR:
        special = link_or_device(kind, path, link, header, entries, index_of, mode, uid, gid, mtime)
        if special is None:
            return view, pos, real
        target, chash, bhash, dev = special
    entry = FileEntry(path, kind, real, mode, uid, gid, mtime, target, chash, xattrs, dev, bhash)
    at = index_of.setdefault(path, len(entries))
    if at == len(entries):
        entries.append(entry)
    else:
        entries[at] = entry
    return view, pos, real


def _stream_ends(first: bool, left: int, offset: int) -> None:
    """The stream ended before an end-of-archive marker: fine between entries (Go and GNU tar
    accept it), an error in a header or before the first one."""
    if first and offset == 0:
        raise LayerFormatError("empty layer blob (not a tar stream)")
    if left:
        raise LayerFormatError("truncated tar stream: partial header")


def _check_header(header: memoryview, first: bool, offset: int) -> None:
    """The slow checksum test, for a header the fast one rejected (signed sums, odd fields)."""
    if not checksum_ok(header):
        if first:
            raise LayerFormatError("not a tar stream (bad header checksum)")
        raise LayerFormatError(f"corrupt tar header at offset {offset}")


def _finish(entries: list[FileEntry], kept: dict[str, bytes], total: int, end: int) -> Walked:
    if kept:
        # Only paths whose last entry in this tar is a regular file keep their bytes.
        final = {e.path: e.kind for e in entries if not e.is_marker}
        contents = tuple(sorted((p, b) for p, b in kept.items() if final.get(p) is _FILE))
    else:
        contents = ()
    if total > MAX_SIZE:
        raise LayerFormatError(f"bad tar headers: the files' sizes add up to {total} bytes")
    return tuple(entries), total, end, contents
