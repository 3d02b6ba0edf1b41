"""What makes stacking fast: the compiled common case of ``FsTree.apply_layer`` and making
many frozen slotted objects at once. Pure: no I/O."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from itertools import islice, repeat
from typing import Any, TypeVar

from layerscope.compiled import extension

_T = TypeVar("_T")


def made_by_columns(cls: type[_T], count: int, columns: Sequence[Iterable[object]]) -> list[_T]:
    """``count`` instances of the slotted dataclass ``cls``, each slot (in ``__slots__`` order)
    filled from its column without running ``__init__``: several times faster for 10k objects
    than calling ``cls`` (a frozen ``__init__`` sets every field through object.__setattr__).
    The compiled ``build`` of ``layerscope._entries`` makes them when it is there (a pointer
    store per slot; the loop below is its oracle). Their values must never refer back to them:
    the objects it makes are not tracked by the cyclic collector."""
    slots = cls.__dict__["__slots__"]
    if _BUILD is not None and len(columns) == len(slots) and count:
        lists = tuple(list(islice(values, count)) for values in columns)
        if all(len(values) == count for values in lists):
            return list(_BUILD(cls, tuple(getattr(cls, slot) for slot in slots), lists))
        columns = lists
    made = list(map(object.__new__, repeat(cls, count)))
    for slot, values in zip(cls.__dict__["__slots__"], columns, strict=True):
        deque(map(getattr(cls, slot).__set__, made, values), 0)
    return made


_ENTRIES = extension("_entries")
_BUILD: Callable[..., tuple[Any, ...]] | None = _ENTRIES.build if _ENTRIES is not None else None
"""``build`` of ``layerscope._entries`` (objects from columns), or None."""
_STACK: Any = extension("_stack")
"""``layerscope._stack``, or None when it is not built or ``LAYERSCOPE_PURE_PYTHON=1``."""


def native_place(placed: type[Any]) -> Callable[..., int] | None:
    """``place`` of ``layerscope._stack`` (native/stack.c: apply_layer's common case compiled,
    tree/__init__.py its oracle), making ``placed`` objects; None when it is not built or
    ``LAYERSCOPE_PURE_PYTHON=1``."""
    if _STACK is None:
        return None
    _STACK.configure(placed, *(getattr(placed, slot) for slot in placed.__slots__))
    place: Callable[..., int] = _STACK.place
    return place


def native_whiteout(removal: type[Any]) -> Callable[..., None] | None:
    """``whiteout`` of ``layerscope._stack`` (a layer's whiteouts applied as
    ``FsTree._whited_out`` and ``_removals`` do, its oracle), making ``removal`` objects;
    None when it is not built or ``LAYERSCOPE_PURE_PYTHON=1``."""
    if _STACK is None or not hasattr(_STACK, "whiteout"):
        return None  # an extension built before whiteout() was added
    _STACK.configure_removal(removal, *(getattr(removal, slot) for slot in removal.__slots__))
    whiteout: Callable[..., None] = _STACK.whiteout
    return whiteout


PlainLeaves = Callable[
    [Sequence[Any], "set[str] | None"], "tuple[dict[str, int], list[Any] | None] | None"
]
"""plain_leaves(entries, targets) -> (leaves, the entries at or below a target, None without
targets), or None when a path is not plain."""


def native_plain_leaves() -> PlainLeaves | None:
    """``plain_leaves`` of ``layerscope._stack``: the short way of the dive figures' first
    layer (``analysis/dive.py``, ``_first_layer``, whose Python code is its oracle) in one
    pass over the entries; None when it is not built or ``LAYERSCOPE_PURE_PYTHON=1``."""
    if _STACK is None or not hasattr(_STACK, "plain_leaves"):
        return None
    leaves: PlainLeaves = _STACK.plain_leaves
    return leaves
