"""OCI overlay semantics in one place: stacking layers, whiteouts, opaque dirs, path safety.

Pure: no I/O. The rules follow the OCI image spec (``layer.md``) and the appliers of
moby/go-archive and containerd (see research/formats.md, section 4):

- whiteouts and opaque markers hide only what LOWER layers wrote; entries of the same layer
  survive whatever the order of the tar;
- a directory over a directory replaces its attributes only (children kept); anything else
  unlinks the old path (and its whole subtree) and recreates it;
- missing parent directories, including the parents of whiteout and opaque markers, are created
  as *implicit* directories, which are never reported as added;
- a whiteout of an absent path is a no-op.

One liberty is taken: a path below a lower-layer symlink (or file) is attached below that node
rather than resolved through the link, as real appliers would; builders do not write such diffs.
"""

from __future__ import annotations

from collections.abc import (
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from dataclasses import dataclass
from enum import Enum
from itertools import repeat
from operator import attrgetter
from types import MappingProxyType

from layerscope.errors import LayerFormatError
from layerscope.model import EntryKind, FileEntry, Image, Layer
from layerscope.tree.fast import made_by_columns, native_place, native_whiteout
from layerscope.tree.paths import ROOT, check_link_target, normalize_member_path, parent_path

__all__ = [
    "ROOT",
    "check_link_target",
    "normalize_member_path",
    "parent_path",
    "FsSnapshot",
    "FsTree",
    "LayerApplied",
    "LayerStack",
    "Placed",
    "Removal",
    "RemovalCause",
    "Replacement",
    "made_by_columns",
    "stack_layers",
]

# Results of applying a layer


@dataclass(frozen=True, slots=True)
class Placed:
    """A file-system node: the entry and the layer that wrote it."""

    layer_index: int
    entry: FileEntry
    implicit: bool = False
    """A parent directory created because a deeper path needed it, not written by any entry."""

    @property
    def path(self) -> str:
        return self.entry.path


class RemovalCause(Enum):
    """Why a lower node disappeared."""

    WHITEOUT = "whiteout"
    """The path or one of its ancestors was whited out."""
    OPAQUE = "opaque"
    """An ancestor directory was marked opaque."""
    PARENT_REPLACED = "parent-replaced"
    """An ancestor was replaced by something of another type (file over dir, dir over file)."""


@dataclass(frozen=True, slots=True)
class Removal:
    """A node that a layer removed (it is not in the tree afterwards)."""

    before: Placed
    cause: RemovalCause

    @property
    def path(self) -> str:
        return self.before.entry.path


@dataclass(frozen=True, slots=True)
class Replacement:
    """A node that a layer wrote over an existing one (or one it had just removed)."""

    before: Placed
    after: Placed

    @property
    def path(self) -> str:
        return self.after.entry.path


@dataclass(frozen=True, slots=True)
class LayerApplied:
    """What applying one layer did to the tree."""

    layer_index: int
    added: tuple[Placed, ...]
    """Entries at paths that did not exist before this layer."""
    replaced: tuple[Replacement, ...]
    """Entries written over an existing node (``before.implicit`` for implied dirs), including
    paths this layer whited out or hid and then wrote again."""
    removed: tuple[Removal, ...]
    """Nodes removed (implicit directories included, flagged on ``before``)."""
    implied: tuple[Placed, ...]
    """Implicit parent directories this layer created."""


# The mutable tree


def _placed(layer_index: int, entries: list[FileEntry]) -> list[Placed]:
    """``Placed(layer_index, entry)`` per entry."""
    return made_by_columns(Placed, len(entries), (repeat(layer_index), entries, repeat(False)))


def _removals(nodes: list[Placed], cause: RemovalCause) -> Iterator[tuple[str, Removal]]:
    """(path, ``Removal(node, cause)``) per node."""
    made = made_by_columns(Removal, len(nodes), (nodes, repeat(cause)))
    return zip(map(_entry_path, nodes), made, strict=True)


_entry_path = attrgetter("entry.path")


NATIVE_PLACE = native_place(Placed)
"""place(layer_index, entries, start, nodes, children, added, removed) -> the index of the first
entry from ``start`` that is not a new path under an existing parent (it placed those before)."""


NATIVE_WHITEOUT = native_whiteout(Removal)
"""whiteout(targets, nodes, children, removed, cause): ``_whited_out`` and ``_removals`` of a
layer's whiteouts, compiled; None without ``layerscope._stack``."""


def _implicit_dir(path: str, layer_index: int) -> Placed:
    entry = FileEntry(path, EntryKind.DIR, 0, 0o755, 0, 0, 0.0)
    return Placed(layer_index, entry, implicit=True)


class FsTree:
    """A mutable overlay file system: path -> Placed, with a children index."""

    __slots__ = ("_nodes", "_children", "_place", "_whiteout")

    def __init__(self, *, pure_python: bool = False) -> None:
        self._nodes: dict[str, Placed] = {}
        self._children: dict[str, set[str]] = {}
        self._place = None if pure_python else NATIVE_PLACE
        self._whiteout = None if pure_python else NATIVE_WHITEOUT

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, path: object) -> bool:
        return path in self._nodes

    def get(self, path: str) -> Placed | None:
        """The node at ``path``, or None."""
        return self._nodes.get(path)

    def children(self, path: str = ROOT) -> tuple[str, ...]:
        """Sorted child paths of a directory."""
        return tuple(sorted(self._children.get(path, ())))

    def nodes(self) -> Mapping[str, Placed]:
        """A read-only live view of every node (the root only if a layer wrote ``/``)."""
        return MappingProxyType(self._nodes)

    def apply_layer(self, layer_index: int, entries: Iterable[FileEntry]) -> LayerApplied:
        """Apply one layer's entries on top of the tree and report what changed."""
        whiteouts: list[str] = []
        opaques: list[str] = []
        regular = entries = list(entries)
        if {EntryKind.WHITEOUT, EntryKind.OPAQUE} & set(map(attrgetter("kind"), entries)):
            regular = []
            for entry in entries:
                if entry.kind is EntryKind.WHITEOUT:
                    whiteouts.append(entry.path)
                elif entry.kind is EntryKind.OPAQUE:
                    opaques.append(entry.path)
                else:
                    regular.append(entry)

        removed: dict[str, Removal] = {}
        replaced: list[Replacement] = []
        added: list[Placed] = []
        implied: list[Placed] = []

        for directory in opaques:
            removed.update(_removals(self._drop_descendants(directory), RemovalCause.OPAQUE))
        if whiteouts and self._whiteout is not None:  # the same, compiled
            self._whiteout(whiteouts, self._nodes, self._children, removed, RemovalCause.WHITEOUT)
        elif whiteouts:
            removed.update(_removals(self._whited_out(whiteouts), RemovalCause.WHITEOUT))
        # The markers live inside their directory, so that directory is implied.
        for directory in opaques:
            if directory != ROOT and directory not in self._nodes:
                self._ensure_parents(directory + "/.wh..wh..opq", layer_index, implied)
        for target in whiteouts:
            if target != ROOT:
                self._ensure_parents(target, layer_index, implied)

        place = self._place
        if place is None:
            for new in _placed(layer_index, regular):
                self._put(new, removed, replaced, added, implied)
        else:  # the compiled common case (a new path under an existing parent); _put the rest
            nodes, children = self._nodes, self._children
            start = place(layer_index, regular, 0, nodes, children, added, removed)
            while start < len(regular):
                self._put(Placed(layer_index, regular[start]), removed, replaced, added, implied)
                start = place(layer_index, regular, start + 1, nodes, children, added, removed)

        return LayerApplied(
            layer_index=layer_index,
            added=tuple(added),
            replaced=tuple(replaced),
            removed=tuple(removed.values()),
            implied=tuple(implied),
        )

    # -- internals ------------------------------------------------------------------------------

    def _put(
        self,
        new: Placed,
        removed: dict[str, Removal],
        replaced: list[Replacement],
        added: list[Placed],
        implied: list[Placed],
    ) -> None:
        path = new.entry.path
        if path == ROOT and not new.entry.is_dir:
            raise LayerFormatError(f"layer {new.layer_index}: the root '/' is not a directory")
        nodes = self._nodes
        old = nodes.get(path)
        if old is None:
            if path != ROOT:
                parent = path[: path.rfind("/")] or ROOT
                if parent != ROOT and parent not in nodes:
                    self._ensure_parents(path, new.layer_index, implied)
                kids = self._children.get(parent)
                if kids is None:
                    self._children[parent] = {path}
                else:
                    kids.add(path)
            nodes[path] = new
            prior = removed.pop(path, None) if removed else None
            if prior is None:
                added.append(new)
            else:
                replaced.append(Replacement(prior.before, new))
            return
        if not (old.entry.is_dir and new.entry.is_dir):
            dropped = self._drop_descendants(path)
            if dropped:  # (most rewrites are of a file: nothing below it)
                removed.update(_removals(dropped, RemovalCause.PARENT_REPLACED))
        self._nodes[path] = new
        replaced.append(Replacement(old, new))

    def _ensure_parents(self, path: str, layer_index: int, implied: list[Placed]) -> None:
        missing: list[str] = []
        parent = parent_path(path)
        while parent != ROOT and parent not in self._nodes:
            missing.append(parent)
            parent = parent_path(parent)
        for directory in reversed(missing):
            node = _implicit_dir(directory, layer_index)
            self._nodes[directory] = node
            self._children.setdefault(parent_path(directory), set()).add(directory)
            implied.append(node)

    def _drop_descendants(self, path: str) -> list[Placed]:
        """Remove everything below ``path`` (not ``path`` itself); return the removed nodes."""
        dropped: list[Placed] = []
        pending = [path]
        while pending:
            kids = self._children.pop(pending.pop(), None)
            if kids:
                for kid in kids:
                    dropped.append(self._nodes.pop(kid))
                    pending.append(kid)
        return dropped

    def _whited_out(self, whiteouts: list[str]) -> list[Placed]:
        """Remove each whiteout's target and everything below it; return the removed nodes in
        the order removed (a target's descendants, then the target): one ``_removals`` for all
        of them, as a layer of thousands of whiteouts would pay its per-call cost each time."""
        gone: list[Placed] = []
        nodes = self._nodes
        for target in whiteouts:
            if target == ROOT or target not in nodes:
                continue
            gone += self._drop_descendants(target)
            gone.append(self._unlink(target))
        return gone

    def _unlink(self, path: str) -> Placed:
        node = self._nodes.pop(path)
        siblings = self._children.get(parent_path(path))
        if siblings is not None:
            siblings.discard(path)
            if not siblings:
                del self._children[parent_path(path)]
        return node


# Read-only views of the stacked file system


class FsSnapshot(Mapping[str, Placed]):
    """The file system as it stands after one layer: path -> Placed (implicit dirs included)."""

    __slots__ = ("layer_index", "_nodes", "_children")

    def __init__(self, layer_index: int, nodes: dict[str, Placed]) -> None:
        self.layer_index = layer_index
        self._nodes = nodes
        self._children: dict[str, tuple[str, ...]] | None = None

    def __getitem__(self, path: str) -> Placed:
        return self._nodes[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, path: object) -> bool:
        return path in self._nodes

    # The Mapping mixins go through __getitem__ once per path; these are the dict's own views.
    def keys(self) -> KeysView[str]:
        return self._nodes.keys()

    def values(self) -> ValuesView[Placed]:
        return self._nodes.values()

    def items(self) -> ItemsView[str, Placed]:
        return self._nodes.items()

    def get(self, path: str, default: Placed | None = None) -> Placed | None:  # type: ignore[override]
        return self._nodes.get(path, default)

    def children(self, path: str = ROOT) -> tuple[str, ...]:
        """Sorted child paths of a directory (empty for leaves and unknown paths)."""
        if self._children is None:
            index: dict[str, list[str]] = {}
            for child in self._nodes:
                if child != ROOT:
                    index.setdefault(parent_path(child), []).append(child)
            self._children = {key: tuple(sorted(value)) for key, value in index.items()}
        return self._children.get(path, ())


class LayerStack:
    """The stacked file system of an image after every layer, built once in one pass.

    ``applied[i]`` says what layer i did; ``at(i)`` gives the aggregated file system up to and
    including layer i (each node remembers its lifetime, so no per-layer copies are kept).
    """

    __slots__ = ("applied", "final", "_spans", "_cache", "_count")

    def __init__(self, layers: Sequence[Layer]) -> None:
        tree = FsTree()
        self.applied: tuple[LayerApplied, ...] = tuple(
            tree.apply_layer(index, layer.entries) for index, layer in enumerate(layers)
        )
        end = self._count = len(layers)
        self._spans: list[tuple[int, int, Placed]] | None = None
        self.final = FsSnapshot(end - 1, tree._nodes)  # the tree ends here: no copy
        self._cache: dict[int, FsSnapshot] = {end - 1: self.final}

    def _lifetimes(self) -> list[tuple[int, int, Placed]]:
        """(first, stop, node) per node ever placed: from the layer that placed (or implied) it
        to the one that replaced or removed it; made at the first ``at`` of an earlier layer."""
        if self._spans is None:
            spans: list[tuple[int, int, Placed]] = []
            for index, result in enumerate(self.applied):
                spans.extend((c.before.layer_index, index, c.before) for c in result.replaced)
                spans.extend((r.before.layer_index, index, r.before) for r in result.removed)
            end = self._count
            spans.extend((node.layer_index, end, node) for node in self.final.values())
            self._spans = spans
        return self._spans

    def __len__(self) -> int:
        return self._count

    def at(self, layer_index: int) -> FsSnapshot:
        """The aggregated file system after layers 0..layer_index."""
        if not 0 <= layer_index < self._count:
            raise IndexError(f"layer {layer_index} out of range (0..{self._count - 1})")
        cached = self._cache.get(layer_index)
        if cached is None:
            nodes = {
                node.entry.path: node
                for start, stop, node in self._lifetimes()
                if start <= layer_index < stop
            }
            cached = FsSnapshot(layer_index, nodes)
            if len(self._cache) >= 8:
                oldest = next(key for key in self._cache if key != self._count - 1)
                del self._cache[oldest]
            self._cache[layer_index] = cached
        return cached


def stack_layers(image: Image) -> LayerStack:
    """Apply every layer of ``image`` in order."""
    return LayerStack(image.layers)
