"""The compiled column encoder (native/entries.c) writes the very bytes the Python encoder
(its definition and fallback) writes, on every corpus; it hands back what it cannot hold."""

from __future__ import annotations

import random
import sys
import tarfile
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from storekit import realistic_entries

from layerscope.layers import scan_layer
from layerscope.model import EntryKind, FileEntry
from layerscope.store import codec


def _native() -> Callable[[Sequence[FileEntry]], Any]:
    if codec.NATIVE_ENCODE is None:
        pytest.fail(
            "layerscope._entries does not encode: not built (no C compiler when `pip install "
            "-e .` ran?), LAYERSCOPE_PURE_PYTHON is set, or FileEntry's slots are not its fields"
        )
    return codec.NATIVE_ENCODE


def _same_payload(entries: Sequence[FileEntry], roundtrip: bool = True) -> list[Any]:
    """Both payloads are equal byte for byte; the compiled per-column results. (``roundtrip``:
    they decode to the entries, as they do unless a value has a type FileEntry does not.)"""
    native = _native()
    want = codec._payload(entries, None)
    assert codec._payload(entries, native) == want
    if roundtrip:
        assert codec.decode_entries(codec.encode_entries(entries)) == tuple(entries)
    columns: list[Any] = native(entries)
    return columns


def _random_entries(count: int, seed: int) -> list[FileEntry]:
    rng = random.Random(seed)
    kinds = list(EntryKind)
    weird = b"/caf\xe9/\xff".decode("utf-8", "surrogateescape")
    out = []
    for i in range(count):
        mtime: float = rng.choice([rng.randrange(2**31), rng.random() * 2e9, 5, 5.0, -0.0, 0.0])
        link = rng.choice([None, "", "target", weird, "ünï/日本"])
        name = rng.choice([f"/d{i % 7}/f{i}", f"{weird}{i}", f"/ü{i}", ""])
        out.append(
            FileEntry(
                name,
                rng.choice(kinds),
                rng.choice([0, 1, 2**40, 2**63 - 1, -(2**63)]),
                rng.choice([0o644, 0o755, 0o4755]),
                rng.choice([0, 1000, 65534]),
                rng.choice([0, 1000]),
                mtime,
                link,
                rng.choice([None, "", "ab" * 8, weird]),
                rng.choice([(), (("user.a", "01"),), (("security.capability", ""),)]),
                rng.choice([None, None, (1, 3), (8, 0)]),
                rng.choice([None, "cd" * 8]),
            )
        )
    return out


def test_compiled_encoder_is_used_and_handles_every_ordinary_column() -> None:
    # a tar walk gives int mtimes (a float only from a fractional PAX mtime)
    entries = [replace(e, mtime=int(e.mtime)) for e in realistic_entries(2000, seed=3)]
    columns = _same_payload(entries)
    assert len(columns) == len(codec.FIELD_NAMES)
    assert all(column is not None for column in columns), columns
    # float mtimes (1 == 1.0 in a dict) are left to Python, the other columns are not
    columns = _same_payload(realistic_entries(2000, seed=3))
    assert [name for name, c in zip(codec.FIELD_NAMES, columns, strict=True) if c is None] == [
        "mtime"
    ]


@pytest.mark.parametrize("count", [0, 1, 2, 257, 5000])
def test_realistic_and_random_entries(count: int) -> None:
    _same_payload(realistic_entries(count, seed=count))
    _same_payload(_random_entries(count, seed=count))


def test_wide_dictionaries_take_16_and_32_bit_indexes() -> None:
    base = realistic_entries(70_000, seed=5)
    for distinct in (256, 257, 65536, 65537, 70_000):
        entries = [
            FileEntry(e.path, e.kind, 0, i % distinct, 0, 0, i % distinct)
            for i, e in enumerate(base)
        ]
        columns = _same_payload(entries)
        assert len(columns[codec.FIELD_NAMES.index("mode")][0]) == distinct


def test_dive_fixtures_walked(dive_fixtures: Path) -> None:
    archives = sorted(dive_fixtures.glob("*.tar"))
    layers = 0
    for archive in archives:
        with tarfile.open(archive) as tar:
            for member in tar:
                reader = tar.extractfile(member) if member.isfile() else None
                if reader is None:
                    continue
                try:
                    scan = scan_layer(memoryview(reader.read()))
                except Exception:  # noqa: BLE001 - a config or manifest, not a layer
                    continue
                if scan.entries:
                    layers += 1
                    _same_payload(scan.entries)
    assert layers >= 7


Pair = namedtuple("Pair", "major minor")


class Name(str):
    pass


def _odd(**change: Any) -> list[FileEntry]:
    plain = FileEntry("/a", EntryKind.FILE, 1, 0o644, 0, 0, 7, "x", "ab", (), None, None)
    fields = {name: getattr(plain, name) for name in codec.FIELD_NAMES}
    odd = FileEntry(**{**fields, **change})
    return [plain, odd, plain]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("path", "/nul\0in"),
        ("path", Name("/sub")),
        ("path", 3),
        ("size_bytes", 2**63),
        ("size_bytes", True),
        ("size_bytes", 1.0),
        ("mode", True),
        ("mtime", 7.0),
        ("mtime", -0.0),
        ("uid", 2**70),
        ("device", Pair(1, 3)),
        ("gid", "0"),
        ("uid", None),
        ("link_target", 1.5),
        ("content_hash", "x\0y"),
        ("content_hash", 5),
        ("body_hash", Name("cd")),
        ("xattrs", ((1.0, "a"),)),
    ],
)
def test_values_it_cannot_hold_are_left_to_python(column: str, value: Any) -> None:
    columns = _same_payload(_odd(**{column: value}), roundtrip=False)
    at = codec.FIELD_NAMES.index(column)
    style = codec._STYLES[column]
    compact_in_python = style == "D" and type(value) in codec._PLAIN_TYPES
    assert (columns[at] is not None) == compact_in_python, (column, value)
    assert columns[:at] + columns[at + 1 :] == _native()(_odd())[:at] + _native()(_odd())[at + 1 :]


def test_merges_exactly_what_a_python_dict_merges() -> None:
    # a tuple holding 1.0 and one holding 1 are one key in Python's dict too: same bytes
    entries = _odd(xattrs=(("a", 1.0),)) + _odd(xattrs=(("a", 1),)) + _odd(xattrs=(("a", True),))
    columns = _same_payload(entries, roundtrip=False)
    assert columns[codec.FIELD_NAMES.index("xattrs")][0] == [(), (("a", 1.0),)]


def test_anything_but_exact_entries_is_left_to_python() -> None:
    class Sub(FileEntry):
        __slots__ = ()

    sub = Sub("/s", EntryKind.FILE, 1, 0o644, 0, 0, 0)
    assert _native()([*_odd(), sub]) is None
    assert codec._payload([*_odd(), sub], None) == codec._payload([*_odd(), sub], _native())
    unset = object.__new__(FileEntry)
    assert _native()([*_odd(), unset]) is None
    with pytest.raises(AttributeError):
        codec.encode_entries([unset])
    # a kind that is not an EntryKind member: Python encodes that column (or fails) as before
    foreign = Enum("Foreign", {"FILE": "file"})
    columns = _same_payload(_odd(kind=foreign.FILE), roundtrip=False)
    assert columns[codec.FIELD_NAMES.index("kind")] is None
    for native in (None, _native()):
        with pytest.raises(AttributeError):
            codec._payload(_odd(kind="file"), native)
    for native in (None, _native()):  # unhashable: the same error either way
        with pytest.raises(TypeError, match="unhashable"):
            codec._payload(_odd(device=[1, 3]), native)


def test_references_are_counted_right() -> None:
    """The distinct values are the entries' own first objects; nothing is leaked or lost."""
    marker_path = "".join(["/marker", "-path"])
    marker_link = "".join(["link", "-target"])
    entries = [
        FileEntry(marker_path, EntryKind.SYMLINK, 0, 0o777, 0, 0, 0, marker_link),
        *realistic_entries(300, seed=2),
    ]
    kind_value = EntryKind.SYMLINK._value_
    before = [sys.getrefcount(v) for v in (marker_path, marker_link, kind_value)]
    columns = _native()(entries)
    assert columns[codec.FIELD_NAMES.index("link_target")][0][0] is marker_link
    del columns
    for _ in range(3):
        _same_payload(entries)
    after = [sys.getrefcount(v) for v in (marker_path, marker_link, kind_value)]
    assert after == before


def test_refuses_malformed_arguments() -> None:
    from layerscope import _entries  # type: ignore[attr-defined]

    descriptors = tuple(getattr(FileEntry, name) for name in codec.FIELD_NAMES)
    styles = b"S" * len(descriptors)
    unwraps = (None,) * len(descriptors)
    with pytest.raises(ValueError, match="one style"):
        _entries.encode_columns([], FileEntry, descriptors, b"S", unwraps)
    with pytest.raises(TypeError, match="members, values"):
        _entries.encode_columns([], FileEntry, descriptors, styles, ((1,),) * len(descriptors))
    with pytest.raises(TypeError, match="own slots"):
        _entries.encode_columns([], Path, descriptors, styles, unwraps)
    with pytest.raises(TypeError):
        _entries.encode_columns(5, FileEntry, descriptors, styles, unwraps)


def test_no_memory_is_kept_between_calls() -> None:
    """Its buffers and index arrays (PyMem, which tracemalloc sees) are all freed."""
    import tracemalloc

    entries = realistic_entries(3000, seed=4)
    native = _native()
    tracemalloc.start()
    try:
        native(entries)
        settled, _ = tracemalloc.get_traced_memory()
        for _ in range(10):
            native(entries)
        grown = tracemalloc.get_traced_memory()[0] - settled
    finally:
        tracemalloc.stop()
    assert grown < 16_000  # one call's buffers alone are ~300 KB: a leak would show
