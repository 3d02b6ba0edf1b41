"""The compiled hot loop of the walk (native/tarwalk.c, built as ``layerscope._tarwalk``).

It is optional: not built when the package was installed without a C compiler, switched off
with ``LAYERSCOPE_PURE_PYTHON=1``, or unused when ``FileEntry`` gained a field the C code does
not set yet. The pure-Python walk is its definition and oracle (tests/test_native_walker.py).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, cast

from ..compiled import extension
from ..model import EntryKind, FileEntry, KeptFiles
from .rare import FORMAT_METADATA_NAMES

NativeWalk = Callable[
    [memoryview, int, list[FileEntry], dict[str, int], bool, Any], tuple[int, int, int]
]
"""walk(view, pos, entries, index_of, populate, pending) -> (pos, regular-file bytes added,
entries added); populate: the view is a file mapped without its page-table entries (map them
ahead); pending: ``new_pending()``'s object for the whole layer (its ``finish()`` stores the
big files' hashes, which may arrive after the call), or None (they arrive before it returns)."""


def _load() -> Any | None:
    _tarwalk = extension("_tarwalk")
    if _tarwalk is None:
        return None
    if tuple(f.name for f in dataclasses.fields(FileEntry)) != _tarwalk.FIELDS:
        return None  # FileEntry gained a field native/tarwalk.c does not set yet
    return _tarwalk


_TARWALK = _load()
_lock = threading.Lock()
_covered: tuple[frozenset[bytes], int] = (frozenset(), -1)
"""The kept-file suffixes and size bound the compiled walker stops at (a superset of every
``KeptFiles`` scanned with so far: stopping at more files than one scan keeps is only slower,
since the Python walk then asks that scan's ``wants``)."""


def _configure(tarwalk: Any, suffixes: frozenset[bytes], max_bytes: int) -> None:
    global _covered
    tarwalk.configure(
        FileEntry,
        (EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK, EntryKind.HARDLINK, EntryKind.FIFO),
        tuple(sorted(suffixes)),
        tuple(s.encode() for s in FORMAT_METADATA_NAMES),
        max_bytes,
    )
    _covered = (suffixes, max_bytes)


if _TARWALK is not None:
    _configure(_TARWALK, frozenset(), -1)

NATIVE_WALK: NativeWalk | None = cast(NativeWalk, _TARWALK.walk) if _TARWALK is not None else None
"""The compiled walker's entry point, or None when the pure-Python walker does all the work."""


def new_pending() -> Any:
    """The compiled walker's hash worker for one layer's walk (``finish()`` it before the
    entries are used), or None without the compiled walker."""
    return _TARWALK.Pending() if _TARWALK is not None else None


def native_walk(keep: KeptFiles | None) -> NativeWalk | None:
    """The compiled walker, set to stop at every file ``keep`` may select (None: not there)."""
    walk, tarwalk = NATIVE_WALK, _TARWALK
    if walk is None or keep is None or tarwalk is None:
        return walk
    suffixes = frozenset(s.encode() for s in keep.suffixes)
    if not (suffixes <= _covered[0] and keep.max_bytes <= _covered[1]):
        with _lock:  # only ever grows, so a walk on another thread never misses a kept file
            _configure(tarwalk, _covered[0] | suffixes, max(_covered[1], keep.max_bytes))
    return walk
