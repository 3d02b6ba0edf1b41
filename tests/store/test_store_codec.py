"""The entry codec round-trips every FileEntry field exactly, types included."""

from __future__ import annotations

import math
import struct

import pytest
import zstandard
from storekit import realistic_entries

from layerscope.model import EntryKind, FileEntry
from layerscope.store.codec import FIELD_NAMES, CodecError, decode_entries, encode_entries


def _tags(blob: bytes) -> dict[str, bytes]:
    """Column tag per field, read straight from the documented layout (magic, n, cols, sections)."""
    raw = zstandard.ZstdDecompressor().decompress(blob)
    magic, _count, columns = struct.unpack_from("<4sII", raw)
    assert magic == b"LSE1" and columns == len(FIELD_NAMES)
    pos, tags = 12, {}
    for name in FIELD_NAMES:
        tag, length = struct.unpack_from("<cQ", raw, pos)
        tags[name] = tag
        pos += 9 + length
    assert pos == len(raw)
    return tags


def _roundtrip(entries: list[FileEntry]) -> tuple[FileEntry, ...]:
    out = decode_entries(encode_entries(entries), len(entries))
    assert out == tuple(entries)
    for a, b in zip(out, entries, strict=True):
        assert type(a.mtime) is type(b.mtime)
        assert type(a) is FileEntry
    return out


def test_every_kind_and_every_field_round_trips() -> None:
    entries = [
        FileEntry("/", EntryKind.DIR, 0, 0o755, 0, 0, 0),
        FileEntry("/bin/sh", EntryKind.SYMLINK, 0, 0o777, 0, 0, 1.5, "busybox"),
        FileEntry("/bin/busybox", EntryKind.FILE, 123, 0o4755, 0, 0, 1_700_000_000, None, "ab" * 8),
        FileEntry("/bin/ls", EntryKind.HARDLINK, 0, 0o755, 0, 0, 1_700_000_000, "/bin/busybox"),
        FileEntry("/a.pyc", EntryKind.FILE, 99, 0o644, 0, 0, 3, None, "cd" * 8, body_hash="ef" * 8),
        FileEntry("/dev/null", EntryKind.CHAR, 0, 0o666, 0, 0, 0, device=(1, 3)),
        FileEntry("/dev/sda", EntryKind.BLOCK, 0, 0o660, 0, 6, 0, device=(8, 0)),
        FileEntry("/run/fifo", EntryKind.FIFO, 0, 0o600, 65534, 65534, 0),
        FileEntry("/etc/old", EntryKind.WHITEOUT, 0, 0, 0, 0, 0),
        FileEntry("/var/cache", EntryKind.OPAQUE, 0, 0o755, 0, 0, 0),
        FileEntry(
            "/usr/bin/ping",
            EntryKind.FILE,
            0,
            0o755,
            0,
            0,
            2,
            None,
            "00" * 8,
            (("security.capability", "01"), ("user.x", "")),
        ),
    ]
    _roundtrip(entries)


def test_int_and_float_mtimes_keep_their_type_even_when_equal() -> None:
    # 5 == 5.0 and 0.0 == -0.0 would merge in a plain dict: the codec must not merge them.
    entries = [
        FileEntry("/a", EntryKind.FILE, 0, 0o644, 0, 0, 5),
        FileEntry("/b", EntryKind.FILE, 0, 0o644, 0, 0, 5.0),
        FileEntry("/c", EntryKind.FILE, 0, 0o644, 0, 0, -0.0),
        FileEntry("/d", EntryKind.FILE, 0, 0o644, 0, 0, 0.0),
        FileEntry("/e", EntryKind.FILE, 0, 0o644, 0, 0, 1_700_000_000.123456789),
    ]
    out = _roundtrip(entries)
    assert [type(e.mtime) for e in out] == [int, float, float, float, float]
    assert math.copysign(1.0, out[2].mtime) == -1.0
    assert math.copysign(1.0, out[3].mtime) == 1.0
    assert out[4].mtime == 1_700_000_000.123456789


def test_none_and_empty_string_stay_apart() -> None:
    entries = [
        FileEntry("/a", EntryKind.SYMLINK, 0, 0o777, 0, 0, 0, ""),
        FileEntry("/b", EntryKind.SYMLINK, 0, 0o777, 0, 0, 0, None),
        FileEntry("/c", EntryKind.FILE, 0, 0o644, 0, 0, 0, None, ""),
        FileEntry("/d", EntryKind.FILE, 0, 0o644, 0, 0, 0, None, None),
    ]
    out = _roundtrip(entries)
    assert [e.link_target for e in out] == ["", None, None, None]
    assert [e.content_hash for e in out] == [None, None, "", None]


def test_non_utf8_names_survive() -> None:
    # layers.py decodes names with surrogateescape: b"\xff" becomes "\udcff".
    weird = b"/caf\xe9/\xff\xfe".decode("utf-8", "surrogateescape")
    entries = [
        FileEntry(weird, EntryKind.FILE, 1, 0o644, 0, 0, 0, None, "1" * 16),
        FileEntry("/ünïcødé/日本", EntryKind.SYMLINK, 0, 0o777, 0, 0, 0, weird),
    ]
    out = _roundtrip(entries)
    assert out[0].path.encode("utf-8", "surrogateescape") == b"/caf\xe9/\xff\xfe"


def test_values_the_compact_columns_cannot_hold_fall_back_to_json() -> None:
    entries = [
        FileEntry("/nul\0inside", EntryKind.FILE, 2**70, 0o644, 2**40, 0, 0, None, "x\0y"),
        FileEntry("/plain", EntryKind.FILE, -1, 0o644, 0, 0, 0, None, None),
    ]
    blob = encode_entries(entries)
    tags = _tags(blob)
    assert tags["path"] == b"J" and tags["size_bytes"] == b"J" and tags["content_hash"] == b"J"
    assert decode_entries(blob) == tuple(entries)


def test_compact_columns_are_used_for_ordinary_entries() -> None:
    tags = _tags(encode_entries(realistic_entries(500)))
    assert tags == {
        "path": b"S",
        "kind": b"D",
        "size_bytes": b"Q",
        "mode": b"D",
        "uid": b"D",
        "gid": b"D",
        "mtime": b"D",
        "link_target": b"D",
        "content_hash": b"O",
        "xattrs": b"D",
        "device": b"D",
        "body_hash": b"O",
    }


@pytest.mark.parametrize("count", [0, 1, 2, 257, 70_000])
def test_sizes_including_empty_and_wide_dictionaries(count: int) -> None:
    entries = realistic_entries(count, seed=count)
    if count == 70_000:  # > 65536 distinct modes forces 32-bit dictionary indexes
        entries = [FileEntry(e.path, e.kind, 0, i, 0, 0, 0) for i, e in enumerate(entries)]
    _roundtrip(entries)


def test_single_empty_path_is_not_confused_with_no_entries() -> None:
    _roundtrip([FileEntry("", EntryKind.FILE, 0, 0, 0, 0, 0)])


def test_realistic_layer_round_trips() -> None:
    _roundtrip(realistic_entries(5000, seed=7))


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"garbage bytes, not zstd",
        zstandard.ZstdCompressor().compress(b"LSE1"),
        zstandard.ZstdCompressor().compress(b"XXXX" + b"\0" * 8),
    ],
)
def test_garbage_raises_codec_error(blob: bytes) -> None:
    with pytest.raises(CodecError):
        decode_entries(blob)


def test_truncated_or_miscounted_payload_raises_codec_error() -> None:
    entries = realistic_entries(50)
    raw = zstandard.ZstdDecompressor().decompress(encode_entries(entries))
    with pytest.raises(CodecError):
        decode_entries(zstandard.ZstdCompressor().compress(raw[:-7]))
    with pytest.raises(CodecError):
        decode_entries(encode_entries(entries), expected_count=49)
    # an unknown kind value (e.g. written by a future version) is a CodecError, not a crash
    bad = raw.replace(b'"file"', b'"flie"')
    with pytest.raises(CodecError):
        decode_entries(zstandard.ZstdCompressor().compress(bad))


def test_decoding_restores_garbage_collection() -> None:
    import gc

    decode_entries(encode_entries(realistic_entries(10)))
    assert gc.isenabled()


def test_compiled_build_makes_the_entries_the_python_build_makes() -> None:
    """native/entries.c against the pure-Python build (its definition), on every column form:
    equal entries, the same types, the very value objects, and references counted right."""
    import gc
    import sys

    from layerscope.store import codec

    if codec.NATIVE_BUILD is None:
        pytest.fail(
            "layerscope._entries is not used: not built (no C compiler when `pip install -e .` "
            "ran?), LAYERSCOPE_PURE_PYTHON is set, or FileEntry's slots are not its fields"
        )
    entries = [
        *realistic_entries(3000, seed=11),
        FileEntry("odd", EntryKind.CHAR, 0, 0o600, 0, 0, 1.5, device=(1, 3)),
        FileEntry("x/y", EntryKind.FILE, 7, 0o644, 5, 5, 2, xattrs=(("user.a", "b"),)),
    ]
    columns = [[getattr(entry, name) for entry in entries] for name in FIELD_NAMES]
    marker = columns[0][0]
    before = sys.getrefcount(marker)
    native = codec.NATIVE_BUILD(columns)
    python = codec._python_build(columns, len(entries))
    assert native == python == tuple(entries)
    for a, b in zip(native, python, strict=True):
        assert type(a) is FileEntry
        assert all(getattr(a, n) is getattr(b, n) for n in FIELD_NAMES)
        assert not gc.is_tracked(a)  # acyclic by construction: no collection walks them
    assert sys.getrefcount(marker) == before + 2  # one reference per built entry, no leak
    del native, python
    assert sys.getrefcount(marker) == before
    assert codec.NATIVE_BUILD([[] for _ in FIELD_NAMES]) == ()


def test_compiled_build_refuses_what_it_cannot_fill() -> None:
    from layerscope import _entries  # type: ignore[attr-defined]

    descriptors = tuple(getattr(FileEntry, name) for name in FIELD_NAMES)
    columns = tuple([] for _ in FIELD_NAMES)
    with pytest.raises(ValueError, match="different lengths"):
        _entries.build(FileEntry, descriptors, (["a"], *columns[1:]))
    with pytest.raises(ValueError, match="one column per descriptor"):
        _entries.build(FileEntry, descriptors[:3], columns)
    with pytest.raises(TypeError, match="lists"):
        _entries.build(FileEntry, descriptors, ((), *columns[1:]))

    class Other:
        __slots__ = ("a",)

    with pytest.raises(TypeError, match="own slots"):
        _entries.build(Other, descriptors[:1], ([],))
    with pytest.raises(TypeError, match="plain slotted class"):
        _entries.build(dict, (Other.a,), ([],))
