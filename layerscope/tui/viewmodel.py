"""Pure view state of the file tree: layer, aggregation, sort, collapse, filter, hidden kinds.

No Textual or rich here: the tree widget asks for the rows in its viewport and draws them.
Rows are produced lazily from per-directory row counts, so an image of 135k paths costs one
O(n) pass when the view or filter changes and O(depth x siblings) per cursor move or expand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

from layerscope.analysis import Analysis, ModifyDetail
from layerscope.model import FileEntry
from layerscope.tree import ROOT, parent_path
from layerscope.tui.treeview import ChangeState, PathFilter, PathNode, SortOrder, TreeView

__all__ = ["ChangeState", "SortOrder", "PathFilter", "Row", "TreeView", "FileTreeModel"]


@dataclass(frozen=True, slots=True)
class Row:
    """One visible line of the tree."""

    path: str
    name: str
    depth: int
    """1 for top-level paths."""
    is_dir: bool
    has_children: bool
    expanded: bool
    size_bytes: int
    """Own size for files; the rolled-up size of every file below for directories."""
    state: ChangeState
    detail: ModifyDetail | None
    """For MODIFIED: content, metadata-only or identical rewrite."""
    entry: FileEntry | None
    """The entry this layer shows (the deleted one for REMOVED); None for a context directory."""
    last: bool
    """The last of its siblings."""
    guides: tuple[bool, ...]
    """For each ancestor level below the root: True when that ancestor still has siblings below."""
    delta_bytes: int | None = None
    """Diff views: bytes after minus bytes before (rolled up for directories)."""


def full_counts(
    view: TreeView, collapsed: set[str] | frozenset[str] = frozenset()
) -> dict[str, int]:
    """Rows below each directory of ``view`` with nothing filtered (``collapsed`` folded).

    One step per directory, not per path: a directory's own children, then (deepest first, so
    a directory is complete when it is reached) its total added to its parent's unless folded.
    """
    inner = {node.path: len(node.kids or ()) for node in view.dirs}
    for node in view.dirs:
        path = node.path
        if path != ROOT and path not in collapsed:
            inner[parent_path(path)] += inner[path]
    return inner


class FileTreeModel:
    """The file tree's whole state and the rows it shows."""

    def __init__(
        self, analysis: Analysis | None, *, layer_index: int = 0, aggregated: bool = False
    ):
        self.analysis = analysis
        self.layer_index = layer_index
        self.aggregated = aggregated
        self.sort = SortOrder.SIZE
        self.filter: PathFilter | None = None
        self.hidden: frozenset[ChangeState] = frozenset()
        self.collapsed: set[str] = set()
        self.cursor = 0
        self._views: dict[tuple[int, bool], TreeView] = {}
        self._lock = threading.Lock()
        self._refresh()

    # -- the view and its row counts ----------------------------------------------------------

    @property
    def view(self) -> TreeView:
        """The TreeView of the current layer and mode (built once, a few kept)."""
        key = (self.layer_index, self.aggregated)
        view = self._views.get(key)
        if view is None:
            view = self._keep_view(key, self._make_view(*key))
        return view

    def _keep_view(self, key: tuple[int, bool], view: TreeView) -> TreeView:
        with self._lock:
            kept = self._views.get(key)
            if kept is not None:
                return kept
            if len(self._views) >= 6:
                current = (self.layer_index, self.aggregated)
                del self._views[next(k for k in self._views if k != current)]
            self._views[key] = view
            return view

    def _make_view(self, layer_index: int, aggregated: bool) -> TreeView:
        """Build the view of one layer and mode (subclasses show other path sets)."""
        assert self.analysis is not None
        return TreeView(self.analysis, layer_index, aggregated)

    def prepare(self, layer_index: int, aggregated: bool) -> None:
        """Build and keep a view ahead of time (thread-safe: meant for a background thread);
        the current view, cursor and rows are left as they are."""
        key = (layer_index, aggregated)
        if key not in self._views:
            view = self._make_view(layer_index, aggregated)
            view.full_counts = full_counts(view)
            self._keep_view(key, view)

    def _refresh(self, keep: str | None = None) -> None:
        """Recompute visibility and row counts (after a view, filter or hidden-kind change)."""
        view = self.view
        flt, hidden, collapsed = self.filter, self.hidden, self.collapsed
        inner: dict[str, int] = {}
        visible: set[str] | None = None
        if flt is None and not hidden and not collapsed and view.full_counts is not None:
            inner = dict(view.full_counts)  # one entry per directory: cheap to copy
        elif flt is None and not hidden:
            inner = full_counts(view, collapsed)
            if not collapsed:
                view.full_counts = dict(inner)
        else:
            visible = set()
            for node in view.nodes.values():
                if not node.kids and node.state not in hidden:
                    if flt is None or flt.matches(node.path):
                        visible.add(node.path)
            for node in view.dirs:
                count = 0
                for kid in node.kids or ():
                    if kid.path in visible:
                        count += 1 + (inner.get(kid.path, 0) if kid.path not in collapsed else 0)
                inner[node.path] = count
                if count:  # a directory with children shows when one of them does
                    visible.add(node.path)
        self._inner = inner
        self._visible = visible
        self._kids_cache = self._sorted_kids()
        self._context = view.context
        self.cursor = min(self.cursor, max(0, self.row_count - 1))
        if keep is not None:
            found = self.index_of(keep, reveal=False)
            if found is not None:
                self.cursor = found

    def _sorted_kids(self) -> dict[str, list[PathNode]]:
        """Where sorted children lists are kept: on the view while nothing is filtered (a
        layer shown again finds its visible directories sorted), else until the next refresh."""
        if self._visible is None:
            return self.view.sorted_kids.setdefault(self.sort, {})
        return {}

    def _kids(self, node: PathNode) -> list[PathNode]:
        kids = self._kids_cache.get(node.path)
        if kids is None:
            kids = node.kids or []
            if self._visible is not None:
                kids = [kid for kid in kids if kid.path in self._visible]
            if self.sort is SortOrder.SIZE:
                kids = sorted(kids, key=lambda kid: (-kid.size, kid.name))
            else:
                kids = sorted(kids, key=lambda kid: kid.name)
            self._kids_cache[node.path] = kids
        return kids

    def _span(self, node: PathNode) -> int:
        if node.path in self.collapsed:
            return 1
        return 1 + self._inner.get(node.path, 0)

    @property
    def row_count(self) -> int:
        """Number of visible rows."""
        return self._inner.get(ROOT, 0)

    # -- reading rows ---------------------------------------------------------------------------

    def rows(self, start: int, count: int) -> list[Row]:
        """Up to ``count`` visible rows from row ``start`` on."""
        out: list[Row] = []
        if count <= 0 or not 0 <= start < self.row_count:
            return out
        stack = self._descend(start)
        while stack and len(out) < count:
            kids, i = stack[-1]
            node = kids[i]
            out.append(self._row(node, stack))
            if node.kids and node.path not in self.collapsed and self._kids(node):
                stack.append((self._kids(node), 0))
                continue
            while stack:
                kids, i = stack.pop()
                if i + 1 < len(kids):
                    stack.append((kids, i + 1))
                    break
        return out

    def row(self, index: int) -> Row | None:
        """The row at ``index``, if any."""
        found = self.rows(index, 1)
        return found[0] if found else None

    def _descend(self, index: int) -> list[tuple[list[PathNode], int]]:
        stack: list[tuple[list[PathNode], int]] = []
        node = self.view.root
        while True:
            kids = self._kids(node)
            for i, kid in enumerate(kids):
                span = self._span(kid)
                if index < span:
                    stack.append((kids, i))
                    break
                index -= span
            else:
                return []
            if index == 0:
                return stack
            index -= 1
            node = kids[i]

    def _row(self, node: PathNode, stack: list[tuple[list[PathNode], int]]) -> Row:
        kids, i = stack[-1]
        entry = node.entry if node.entry is not None else self._context_entry(node.path)
        return Row(
            path=node.path,
            name=node.name,
            depth=len(stack),
            is_dir=node.is_dir,
            has_children=bool(node.kids),
            expanded=node.path not in self.collapsed,
            size_bytes=node.size,
            state=node.state,
            detail=node.detail,
            entry=entry,
            last=i == len(kids) - 1,
            guides=tuple(j + 1 < len(level) for level, j in stack[:-1]),
            delta_bytes=node.delta,
        )

    def _context_entry(self, path: str) -> FileEntry | None:
        if self.analysis is None:
            return None
        if path not in self._context:
            placed = self.analysis.filesystem.at(self.layer_index).get(path)
            self._context[path] = placed.entry if placed is not None else None
        return self._context[path]

    def index_of(self, path: str, *, reveal: bool = True) -> int | None:
        """Row index of ``path``; with ``reveal``, collapsed ancestors are expanded first."""
        view = self.view
        node = view.nodes.get(path)
        if node is None or node is view.root:
            return None
        if self._visible is not None and path not in self._visible:
            return None
        chain: list[PathNode] = []
        current = path
        while current != ROOT:
            chain.append(view.nodes[current])
            current = parent_path(current)
        chain.reverse()
        for ancestor in chain[:-1]:
            if ancestor.path in self.collapsed:
                if not reveal:
                    return None
                self._set_collapsed(ancestor, False)
        index = -1
        parent = view.root
        for step in chain:
            index += 1
            for kid in self._kids(parent):
                if kid is step:
                    break
                index += self._span(kid)
            parent = step
        return index

    # -- cursor ---------------------------------------------------------------------------------

    @property
    def cursor_row(self) -> Row | None:
        """The row under the cursor."""
        return self.row(self.cursor)

    def move_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows, clamped to the rows there are."""
        self.cursor = max(0, min(self.row_count - 1, self.cursor + delta))

    def go_to(self, path: str) -> bool:
        """Put the cursor on ``path`` (expanding its ancestors); False when it is not shown."""
        index = self.index_of(path)
        if index is None:
            return False
        self.cursor = index
        return True

    # -- changing state -------------------------------------------------------------------------

    def _keep(self) -> str | None:
        row = self.cursor_row
        return row.path if row is not None else None

    def select_layer(self, layer_index: int) -> None:
        """Show another layer, keeping the cursor on the same path when it is there."""
        if layer_index != self.layer_index:
            keep = self._keep()
            self.layer_index = layer_index
            self._refresh(keep)

    def set_aggregated(self, aggregated: bool) -> None:
        """Aggregated file system up to the layer (True) or that layer's changes only."""
        if aggregated != self.aggregated:
            keep = self._keep()
            self.aggregated = aggregated
            self._refresh(keep)

    def toggle_sort(self) -> None:
        """Switch between size order (largest first) and name order."""
        keep = self._keep()
        self.sort = SortOrder.NAME if self.sort is SortOrder.SIZE else SortOrder.SIZE
        self._kids_cache = self._sorted_kids()
        if keep is not None:
            self.cursor = self.index_of(keep, reveal=False) or 0

    def set_filter(self, text: str) -> None:
        """Filter paths by a glob or regex (empty clears it); ValueError if it does not parse."""
        parsed = PathFilter.parse(text)
        if parsed != self.filter:
            keep = self._keep()
            self.filter = parsed
            self._refresh(keep)

    def reset_filters(self) -> None:
        """No path filter and no hidden change kinds."""
        keep = self._keep()
        self.filter = None
        self.hidden = frozenset()
        self._refresh(keep)

    def toggle_hidden(self, state: ChangeState) -> None:
        """Hide or show paths of one change state."""
        keep = self._keep()
        self.hidden = self.hidden ^ {state}
        self._refresh(keep)

    def toggle_collapse(self, index: int | None = None) -> None:
        """Collapse or expand the directory at row ``index`` (the cursor by default)."""
        row = self.row(self.cursor if index is None else index)
        if row is None or not row.has_children:
            return
        self._set_collapsed(self.view.nodes[row.path], row.expanded)

    def _set_collapsed(self, node: PathNode, collapse: bool) -> None:
        if collapse == (node.path in self.collapsed):
            return
        before = self._span(node)
        if collapse:
            self.collapsed.add(node.path)
        else:
            self.collapsed.discard(node.path)
        delta = self._span(node) - before
        path = node.path
        while path != ROOT:
            path = parent_path(path)
            self._inner[path] = self._inner.get(path, 0) + delta
            if path in self.collapsed:
                break

    def set_all_collapsed(self, collapse: bool) -> None:
        """Collapse every directory (the top level stays listed) or expand every one."""
        keep = self._keep()
        if collapse:
            self.collapsed = {node.path for node in self.view.dirs if node is not self.view.root}
            top = keep.split("/", 2)[1] if keep else ""
            keep = "/" + top if top else None
        else:
            self.collapsed = set()
        self._refresh(keep)

    def toggle_all(self) -> None:
        """Collapse everything when anything is expanded, else expand everything."""
        dirs = (node for node in self.view.dirs if node is not self.view.root)
        self.set_all_collapsed(any(node.path not in self.collapsed for node in dirs))

    def largest_file(self) -> str | None:
        """The biggest visible non-directory path of the view (ties: first by name, then by
        path)."""
        best: PathNode | None = None
        for node in self.iter_visible_files():
            if best is None or node.size > best.size:
                best = node
            elif node.size == best.size and (node.name, node.path) < (best.name, best.path):
                best = node
        return best.path if best is not None else None

    def iter_visible_files(self) -> Iterator[PathNode]:
        """Every non-directory node the filter and hidden kinds let through."""
        visible = self._visible
        for node in self.view.nodes.values():
            if not node.is_dir and (visible is None or node.path in visible):
                yield node
