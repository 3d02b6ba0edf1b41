"""Compact columnar encoding of a layer's file entries (no pickle), zstd-compressed.

Layout of the uncompressed payload: ``MAGIC``, entry count (u32), column count (u32), then one
section per ``FileEntry`` field in declaration order, each ``tag`` (1 byte), length (u64), data.
Column tags: ``S`` NUL-joined UTF-8 strings, ``O`` optional strings (present indexes + ``S``),
``Q`` little-endian int64, ``D`` dictionary (JSON list of distinct values + index array),
``J`` a JSON list (the exact fallback for anything the compact forms cannot hold).
Every form keeps int and float apart, so an ``mtime`` comes back with the type it went in with.
"""

from __future__ import annotations

import gc
import json
import struct
import sys
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from itertools import compress, repeat
from operator import attrgetter, is_not
from typing import Any

import zstandard

from ..compiled import extension
from ..model import EntryKind, FileEntry

ENCODING_VERSION = 2
"""Bump when the payload changes; rows written with another version are ignored and replaced."""

MAGIC = b"LSE1"
ZSTD_LEVEL = 3
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_HEAD = struct.Struct("<4sII")
_SECTION = struct.Struct("<cQ")
_U32 = struct.Struct("<I")
_SWAP = sys.byteorder != "little"

FIELD_NAMES = tuple(f.name for f in fields(FileEntry))


class CodecError(Exception):
    """An encoded layer that cannot be decoded (corrupt, truncated or from another version)."""


# ---------------------------------------------------------------------------------- encoding


def _json(values: Sequence[Any]) -> bytes:
    return json.dumps(values, separators=(",", ":")).encode("ascii")


def _array_bytes(typecode: str, values: Sequence[int]) -> bytes:
    arr = array(typecode, values)
    if _SWAP:
        arr.byteswap()
    return arr.tobytes()


def _index_typecode(distinct: int) -> str:
    return "B" if distinct <= 0x100 else "H" if distinct <= 0x10000 else "I"


_PLAIN_TYPES = frozenset({int, str, type(None), tuple})
"""Types whose dict keys never merge distinct values (no float, no bool)."""


def _dict_key(value: Any) -> Any:
    # 1 == 1.0 and 0.0 == -0.0 in a dict: key on the type, and on repr for floats.
    return (float, repr(value)) if type(value) is float else (type(value), value)


def _strings(values: Sequence[str]) -> bytes | None:
    if values and set(map(type, values)) != {str}:
        return None
    joined = "\0".join(values)
    if joined.count("\0") != max(len(values) - 1, 0):
        return None  # a value holds a NUL itself
    return joined.encode("utf-8", "surrogatepass")


def _encode_column(values: Sequence[Any], style: str) -> tuple[bytes, bytes]:
    """(tag, data) for one column; ``style`` is the preferred compact form."""
    if style == "S":
        data = _strings(values)
        if data is not None:
            return b"S", data
    elif style == "O":
        flags = list(map(is_not, values, repeat(None)))
        present = list(compress(range(len(values)), flags))
        data = _strings(list(compress(values, flags)))
        if data is not None:
            slots = _array_bytes("I", present)
            return b"O", _U32.pack(len(slots)) + slots + data
    elif style == "Q":
        if not values or (
            set(map(type, values)) == {int}
            and _INT64_MIN <= min(values)
            and max(values) <= _INT64_MAX
        ):
            return b"Q", _array_bytes("q", values)
    elif style == "D":
        distinct: list[Any]
        index: list[int]
        if set(map(type, values)) <= _PLAIN_TYPES:
            distinct = list(dict.fromkeys(values))
            if len(distinct) == 1:  # one value (uid, gid, xattrs...): every index is 0
                return b"D", _dictionary(distinct, b"B" + bytes(len(values)))
            index = list(map({v: i for i, v in enumerate(distinct)}.__getitem__, values))
        else:
            positions: dict[Any, int] = {}
            distinct, index = [], []
            for value in values:
                key = _dict_key(value)
                at = positions.get(key)
                if at is None:
                    at = positions[key] = len(distinct)
                    distinct.append(value)
                index.append(at)
        typecode = _index_typecode(len(distinct))
        return b"D", _dictionary(distinct, typecode.encode() + _array_bytes(typecode, index))
    return b"J", _json(values)


def _dictionary(distinct: list[Any], index: bytes) -> bytes:
    """A D column's data from its distinct values and its typecode + index bytes."""
    table = _json(distinct)
    return _U32.pack(len(table)) + table + index


_STYLES = {
    "path": "S",
    "kind": "D",
    "size_bytes": "Q",
    "mode": "D",
    "uid": "D",
    "gid": "D",
    "mtime": "D",
    "link_target": "D",
    "content_hash": "O",
    "xattrs": "D",
    "device": "D",
    "body_hash": "O",
}


def _column_values(entries: Sequence[FileEntry], name: str) -> list[Any]:
    values = list(map(attrgetter(name), entries))
    if name == "kind":
        return list(map(attrgetter("_value_"), values))  # Enum.value is a slow property
    return values


_Column = bytes | tuple[list[Any], bytes] | None
"""What the compiled encoder gives for one column (None: not handled, Python encodes it)."""
NativeColumns = Callable[[Sequence[FileEntry]], list[_Column] | None]


def _native_encode() -> NativeColumns | None:
    """The compiled column encoder (native/entries.c), or None (as ``_native_build``)."""
    _entries = _native_module()
    if _entries is None:
        return None
    descriptors = tuple(getattr(FileEntry, name) for name in FIELD_NAMES)
    styles = "".join(_STYLES.get(name, "J") for name in FIELD_NAMES).encode("ascii")
    kinds = tuple(EntryKind)
    kind_values = (kinds, tuple(kind._value_ for kind in kinds))
    unwraps = tuple(kind_values if name == "kind" else None for name in FIELD_NAMES)
    encode: Callable[..., list[_Column] | None]
    encode = _entries.encode_columns
    return lambda entries: encode(entries, FileEntry, descriptors, styles, unwraps)


def _payload(entries: Sequence[FileEntry], native: NativeColumns | None) -> bytes:
    """The uncompressed payload; ``native`` encodes the columns it can, Python the rest."""
    done = native(entries) if native is not None else None
    parts = [_HEAD.pack(MAGIC, len(entries), len(FIELD_NAMES))]
    for i, name in enumerate(FIELD_NAMES):
        style = _STYLES.get(name, "J")
        column = None if done is None else done[i]
        if column is None:
            tag, data = _encode_column(_column_values(entries, name), style)
        elif isinstance(column, tuple):
            tag, data = b"D", _dictionary(*column)
        else:
            tag, data = style.encode("ascii"), column
        parts.append(_SECTION.pack(tag, len(data)))
        parts.append(data)
    return b"".join(parts)


def encode_entries(entries: Sequence[FileEntry]) -> bytes:
    """The zstd-compressed columnar payload for ``entries`` (order kept)."""
    payload = _payload(entries, NATIVE_ENCODE)
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(payload)


# ---------------------------------------------------------------------------------- decoding


def _as_kind(value: Any) -> EntryKind:
    return EntryKind(value)


def _as_xattrs(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in value)


def _as_device(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    major, minor = value
    return (int(major), int(minor))


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "kind": _as_kind,
    "xattrs": _as_xattrs,
    "device": _as_device,
}


def _read_array(typecode: str, data: bytes | memoryview) -> array[int]:
    arr = array(typecode)
    arr.frombytes(data)
    if _SWAP:
        arr.byteswap()
    return arr


def _split_strings(data: bytes | memoryview, count: int) -> list[str]:
    if count == 0:
        return []
    return bytes(data).decode("utf-8", "surrogatepass").split("\0")


def _decode_column(tag: bytes, data: memoryview, count: int, name: str) -> list[Any]:
    convert = _CONVERT.get(name)
    if tag == b"S":
        values: list[Any] = _split_strings(data, count)
    elif tag == b"O":
        (index_len,) = _U32.unpack_from(data)
        present = _read_array("I", data[4 : 4 + index_len])
        strings = _split_strings(data[4 + index_len :], len(present))
        if len(strings) != len(present):
            raise CodecError(f"column {name}: {len(strings)} values for {len(present)} slots")
        if len(present) == count:  # every entry has one (as every file has a content hash)
            values = strings
        else:
            values = [None] * count
            for i, value in zip(present, strings, strict=True):
                values[i] = value
    elif tag == b"Q":
        values = _read_array("q", data).tolist()
    elif tag == b"D":
        (table_len,) = _U32.unpack_from(data)
        distinct = json.loads(bytes(data[4 : 4 + table_len]))
        if convert is not None:
            distinct = [convert(v) for v in distinct]
        typecode = chr(data[4 + table_len])
        if typecode not in "BHI":
            raise CodecError(f"column {name}: bad index type {typecode!r}")
        index = _read_array(typecode, data[5 + table_len :])
        if len(distinct) == 1 and len(index) == count and not any(index):
            values = distinct * count  # one value for all (owner, mtime, xattrs of a layer)
        else:
            values = list(map(distinct.__getitem__, index))
    elif tag == b"J":
        values = json.loads(bytes(data))
        if convert is not None:
            values = [convert(v) for v in values]
    else:
        raise CodecError(f"column {name}: unknown tag {tag!r}")
    if len(values) != count:
        raise CodecError(f"column {name}: {len(values)} values for {count} entries")
    return values


def _sections(payload: memoryview, columns: int) -> Iterator[tuple[bytes, memoryview]]:
    pos = _HEAD.size
    for _ in range(columns):
        tag, length = _SECTION.unpack_from(payload, pos)
        pos += _SECTION.size
        if pos + length > len(payload):
            raise CodecError("truncated column")
        yield tag, payload[pos : pos + length]
        pos += length
    if pos != len(payload):
        raise CodecError("trailing bytes after the last column")


def _slots_are_fields() -> bool:
    slots = getattr(FileEntry, "__slots__", ())
    return tuple(slots) == FIELD_NAMES and not hasattr(FileEntry, "__post_init__")


# Filling the slots column by column runs in C and skips 11 Python-level setattr calls per
# entry (a frozen dataclass __init__); only used when the slots are exactly the fields.
_FAST_BUILD = _slots_are_fields()


def _native_module() -> Any:
    """``layerscope._entries``, or None: not built, LAYERSCOPE_PURE_PYTHON=1, or FileEntry's
    slots are not exactly its fields."""
    return extension("_entries") if _FAST_BUILD else None


def _native_build() -> Callable[[list[list[Any]]], tuple[FileEntry, ...]] | None:
    """The compiled build (native/entries.c), or None: not built (no compiler at install),
    LAYERSCOPE_PURE_PYTHON=1, or slots that are not exactly the fields."""
    _entries = _native_module()
    if _entries is None:
        return None
    descriptors = tuple(getattr(FileEntry, name) for name in FIELD_NAMES)
    build: Callable[[type, tuple[Any, ...], tuple[list[Any], ...]], tuple[FileEntry, ...]]
    build = _entries.build
    return lambda columns: build(FileEntry, descriptors, tuple(columns))


NATIVE_BUILD = _native_build()
"""The entries made from their columns in C (None: ``_build`` does it in Python)."""

NATIVE_ENCODE = _native_encode()
"""The common columns encoded in C (None: ``_encode_column`` encodes every column)."""


def _build(columns: list[list[Any]], count: int) -> tuple[FileEntry, ...]:
    if NATIVE_BUILD is not None:
        return NATIVE_BUILD(columns)
    return _python_build(columns, count)


def _python_build(columns: list[list[Any]], count: int) -> tuple[FileEntry, ...]:
    """The definition of the build (and its fallback)."""
    if not _FAST_BUILD:
        return tuple(map(FileEntry, *columns))
    new = object.__new__
    entries = list(map(new, repeat(FileEntry, count)))
    for name, column in zip(FIELD_NAMES, columns, strict=True):
        deque(map(getattr(FileEntry, name).__set__, entries, column), 0)
    return tuple(entries)


def decode_entries(blob: bytes, expected_count: int | None = None) -> tuple[FileEntry, ...]:
    """The entries ``encode_entries`` was given; raises CodecError for anything else."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # 100k+ new objects would trigger many pointless collections
    try:
        try:
            payload = memoryview(zstandard.ZstdDecompressor().decompress(blob))
            magic, count, columns = _HEAD.unpack_from(payload)
            if magic != MAGIC or columns != len(FIELD_NAMES):
                raise CodecError("not a layerscope entry payload of this version")
            if expected_count is not None and count != expected_count:
                raise CodecError(f"{count} entries where {expected_count} were recorded")
            decoded = [
                _decode_column(tag, data, count, name)
                for (tag, data), name in zip(_sections(payload, columns), FIELD_NAMES, strict=True)
            ]
            return _build(decoded, count)
        except CodecError:
            raise
        except (zstandard.ZstdError, struct.error, ValueError, TypeError, IndexError) as exc:
            raise CodecError(f"undecodable entries: {exc}") from exc
    finally:
        if gc_was_enabled:
            gc.enable()


__all__ = ["ENCODING_VERSION", "CodecError", "encode_entries", "decode_entries"]


def encode_kept(contents: Sequence[tuple[str, bytes]]) -> bytes | None:
    """The kept files of a layer (path, bytes) as one zstd blob; None when there are none."""
    if not contents:
        return None
    parts: list[bytes] = []
    for path, data in contents:
        name = path.encode("utf-8", "surrogateescape")
        parts.append(struct.pack("<II", len(name), len(data)))
        parts.append(name)
        parts.append(data)
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(b"".join(parts))


def decode_kept(blob: bytes | None) -> tuple[tuple[str, bytes], ...]:
    """Inverse of ``encode_kept``; raises CodecError on damaged data."""
    if not blob:
        return ()
    try:
        raw = zstandard.ZstdDecompressor().decompress(blob)
        out: list[tuple[str, bytes]] = []
        pos = 0
        while pos < len(raw):
            name_len, data_len = struct.unpack_from("<II", raw, pos)
            pos += 8
            if pos + name_len + data_len > len(raw):
                raise CodecError("kept contents are truncated")
            name = raw[pos : pos + name_len].decode("utf-8", "surrogateescape")
            pos += name_len
            out.append((name, raw[pos : pos + data_len]))
            pos += data_len
        return tuple(out)
    except (zstandard.ZstdError, struct.error) as exc:
        raise CodecError(f"damaged kept contents ({exc})") from exc
