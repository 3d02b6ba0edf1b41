"""Pure per-layer views of the file system and path filters (no Textual, no rich)."""

from __future__ import annotations

import fnmatch
import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from layerscope.analysis import Analysis, ModifyDetail
from layerscope.analysis.changes import modify_detail
from layerscope.model import EntryKind, FileEntry
from layerscope.tree import ROOT

__all__ = ["ChangeState", "SortOrder", "PathFilter", "PathNode", "TreeView"]


class ChangeState(Enum):
    """How a path relates to the selected layer."""

    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


class SortOrder(Enum):
    """Order of siblings in the tree."""

    SIZE = "size"
    NAME = "name"


_GLOB_ONLY = set("*?[")
_REGEX_ONLY = set("^$()|+\\{")


@dataclass(frozen=True, slots=True)
class PathFilter:
    """A path filter: a glob (``*.so``, ``/usr/**/lib*``) or a regular expression (searched)."""

    text: str
    is_glob: bool
    _match: Callable[[str], bool]

    @classmethod
    def parse(cls, text: str) -> PathFilter | None:
        """None for an empty text; raises ValueError for a broken regular expression."""
        text = text.strip()
        if not text:
            return None
        chars = set(text)
        if chars & _GLOB_ONLY and not chars & _REGEX_ONLY:
            pattern = re.compile(fnmatch.translate(text.replace("**", "*")))
            if "/" in text:
                return cls(text, True, lambda path: pattern.match(path) is not None)
            return cls(
                text, True, lambda path: pattern.match(path[path.rfind("/") + 1 :]) is not None
            )
        try:
            regex = re.compile(text)
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from None
        return cls(text, False, lambda path: regex.search(path) is not None)

    def matches(self, path: str) -> bool:
        """True when ``path`` passes the filter."""
        return self._match(path)


_DIR = EntryKind.DIR
_FILE = EntryKind.FILE
_UNCHANGED = ChangeState.UNCHANGED
_ADDED = ChangeState.ADDED
_MODIFIED = ChangeState.MODIFIED
_REMOVED = ChangeState.REMOVED


class PathNode:
    """One path of a view (mutable only while the view is built)."""

    __slots__ = ("path", "is_dir", "entry", "state", "detail", "size", "kids", "delta")

    def __init__(self, path: str, entry: FileEntry | None, state: ChangeState) -> None:
        self.path = path
        self.entry = entry
        self.state = state
        self.detail: ModifyDetail | None = None
        self.kids: list[PathNode] | None = None
        self.delta: int | None = None
        """Diff views: bytes after minus bytes before (rolled up for directories)."""
        if entry is None:
            self.is_dir = True
            self.size = 0
        else:
            kind = entry.kind
            self.is_dir = kind is _DIR
            self.size = entry.size_bytes if kind is _FILE else 0

    @property
    def name(self) -> str:
        return self.path[self.path.rfind("/") + 1 :] or "/"

    @property
    def depth(self) -> int:
        return 0 if self.path == ROOT else self.path.count("/")


class TreeView:
    """The paths of one view of the tree: a layer's changes, the aggregated file system up to a
    layer, or (``from_nodes``) any set of changed paths such as a diff between two images."""

    def __init__(self, analysis: Analysis, layer_index: int, aggregated: bool) -> None:
        self.layer_index = layer_index
        self.aggregated = aggregated
        with _no_gc():
            self._link(self._layer_nodes(analysis, layer_index, aggregated), deltas=False)

    @classmethod
    def from_nodes(cls, key: int, nodes: dict[str, PathNode]) -> TreeView:
        """A view of ``nodes`` (path -> node with ``delta`` set): directories roll up both the
        absolute change (``size``, used to sort) and the signed ``delta``."""
        view = cls.__new__(cls)
        view.layer_index = key
        view.aggregated = False
        with _no_gc():
            view._link(nodes, deltas=True)
        return view

    @staticmethod
    def _layer_nodes(analysis: Analysis, layer_index: int, aggregated: bool) -> dict[str, PathNode]:
        """The layer's changes as ``LayerChanges.changes`` lists them, read from what applying
        the layer did: that list makes (and sorts) a FileChange per path, which on a 135k-file
        base layer cost more than the whole view."""
        nodes: dict[str, PathNode] = {}
        if aggregated:
            for path, placed in analysis.filesystem.at(layer_index).items():
                nodes[path] = PathNode(path, placed.entry, _UNCHANGED)
        applied = analysis.changes[layer_index].applied
        for placed in applied.added:
            entry = placed.entry
            nodes[entry.path] = PathNode(entry.path, entry, _ADDED)
        for swap in applied.replaced:
            entry = swap.after.entry
            if swap.before.implicit:
                nodes[entry.path] = PathNode(entry.path, entry, _ADDED)
            else:
                node = nodes[entry.path] = PathNode(entry.path, entry, _MODIFIED)
                node.detail = modify_detail(swap.before.entry, entry)
        for removal in applied.removed:
            if not removal.before.implicit:
                entry = removal.before.entry
                nodes[entry.path] = PathNode(entry.path, entry, _REMOVED)
        return nodes

    def _link(self, nodes: dict[str, PathNode], *, deltas: bool) -> None:
        root = nodes.get(ROOT)
        if root is None:
            root = nodes[ROOT] = PathNode(ROOT, None, _UNCHANGED)
        # Children lists; parents missing from the view (layer-only: unchanged context dirs)
        # are created on the way.
        pending = [node for node in nodes.values() if node is not root]
        parents: list[PathNode] = []
        find = nodes.get
        while pending:
            orphans: list[PathNode] = []
            # paths come in archive order, where siblings follow each other: the previous
            # parent is the likely one (a string compare, not a lookup)
            last_key, last_kids = "", []
            for node in pending:
                path = node.path
                parent_key = path[: path.rfind("/")] or ROOT
                if parent_key == last_key:
                    last_kids.append(node)
                    continue
                parent = find(parent_key)
                if parent is None:
                    parent = nodes[parent_key] = PathNode(parent_key, None, _UNCHANGED)
                    orphans.append(parent)
                kids = parent.kids
                if kids is None:
                    kids = parent.kids = [node]
                    parents.append(parent)
                else:
                    kids.append(node)
                last_key, last_kids = parent_key, kids
            pending = orphans
        # Sizes rolled up, deepest directories first (list comprehensions: the sums run over
        # every path of the view, and a generator costs a resumption per item).
        parents.sort(key=lambda node: -node.depth)
        self.dirs = parents
        for node in parents:
            kids = node.kids or []
            if deltas:
                node.delta = (node.delta or 0) + sum([kid.delta or 0 for kid in kids])
                node.size += sum([kid.size for kid in kids])
            elif node.state is _REMOVED:
                node.size += sum([kid.size for kid in kids])
            else:
                node.size += sum([kid.size for kid in kids if kid.state is not _REMOVED])
        self.nodes = nodes
        self.root = root
        self.full_counts: dict[str, int] | None = None
        """Rows below each directory with everything expanded and shown (set by the model)."""
        self.sorted_kids: dict[SortOrder, dict[str, list[PathNode]]] = {}
        """Per sort order, the children of the directories shown so far (kept by the model)."""
        self.context: dict[str, FileEntry | None] = {}
        """The entries of context directories looked up so far (kept by the model)."""


@contextmanager
def _no_gc() -> Iterator[None]:
    """100k+ small objects: the collector would rescan them many times while they are made."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
