"""Pure view state of the diff screen: the rows of the pair list and the file-change trees.

The file tree of the diff screen is a FileTreeModel whose "layer" is a selection: 0 is the whole
image (final file systems compared), ``k >= 1`` is aligned pair ``k - 1`` (what the two layers'
tars hold). No Textual or rich here.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerscope.analysis import ModifyDetail
from layerscope.analysis.align import PairStatus
from layerscope.analysis.diff import FileChangeKind, FileDiff, ImageDiff
from layerscope.model import EntryKind
from layerscope.tui.treeview import ChangeState, PathNode, TreeView
from layerscope.tui.viewmodel import FileTreeModel

__all__ = ["WHOLE_IMAGE", "PairRow", "pair_rows", "DiffTreeModel", "node_path"]

WHOLE_IMAGE = 0
"""Selection key of the whole-image (final file system) changes."""

_STATE = {
    FileChangeKind.ADDED: (ChangeState.ADDED, None),
    FileChangeKind.REMOVED: (ChangeState.REMOVED, None),
    FileChangeKind.CONTENT: (ChangeState.MODIFIED, ModifyDetail.CONTENT),
    FileChangeKind.METADATA: (ChangeState.MODIFIED, ModifyDetail.METADATA),
    # same content and metadata, only the mtime: drawn like an identical rewrite ("=")
    FileChangeKind.TIMESTAMP: (ChangeState.MODIFIED, ModifyDetail.IDENTICAL),
}
_MARKER_WORD = {EntryKind.WHITEOUT: "whiteout", EntryKind.OPAQUE: "opaque"}


@dataclass(frozen=True, slots=True)
class PairRow:
    """One row of the pair list."""

    key: int
    """Selection key for the tree (WHOLE_IMAGE, or pair index + 1)."""
    label: str
    """``all``, ``0-4`` (the shared prefix), or ``old→new`` layer indexes."""
    status: str
    """``image``, ``shared``, ``identical``, ``changed``, ``added``, ``removed``."""
    size_delta_bytes: int | None
    added: int
    modified: int
    removed: int
    pair_index: int | None
    """The first pair the row stands for (None for the whole image)."""
    shared_count: int = 0
    """For the shared row: how many layers it stands for."""
    shared_bytes: int = 0


def pair_rows(diff: ImageDiff) -> tuple[PairRow, ...]:
    """The whole image first, then the shared prefix once, then every later pair in order."""
    counts = diff.counts
    rows = [
        PairRow(
            WHOLE_IMAGE,
            "all",
            "image",
            diff.size_delta_bytes,
            counts.added,
            counts.content + counts.metadata + counts.timestamp,
            counts.removed,
            None,
        )
    ]
    shared = diff.alignment.shared_count
    if shared:
        label = f"0-{shared - 1}" if shared > 1 else "0"
        shared_bytes = sum(layer.size_bytes for layer in diff.new.layers[:shared])
        rows.append(PairRow(1, label, "shared", 0, 0, 0, 0, 0, shared, shared_bytes))
    for index in range(shared, len(diff.pairs)):
        item = diff.pairs[index]
        pair, c = item.pair, item.counts
        old = str(pair.old_index) if pair.old_index is not None else "-"
        new = str(pair.new_index) if pair.new_index is not None else "-"
        rows.append(
            PairRow(
                index + 1,
                f"{old}→{new}",
                pair.status.value,
                item.size_delta_bytes,
                c.added,
                c.content + c.metadata + c.timestamp,
                c.removed,
                index,
            )
        )
    return tuple(rows)


def node_path(change: FileDiff) -> str:
    """The tree path of a change: whiteout and opaque markers get a word after the name, so a
    marker and the path it hides can both be listed."""
    for side in (change.new, change.old):
        if side is not None and side.kind in _MARKER_WORD:
            return f"{change.path} ({_MARKER_WORD[side.kind]})"
    return change.path


class DiffTreeModel(FileTreeModel):
    """The file changes of the whole image or of one aligned pair, as a tree with size deltas."""

    def __init__(self, diff: ImageDiff, *, key: int = WHOLE_IMAGE) -> None:
        self.diff = diff
        self._changes: dict[int, dict[str, FileDiff]] = {}
        super().__init__(None, layer_index=key)

    def files_of(self, key: int) -> tuple[FileDiff, ...]:
        """The changes a selection key stands for."""
        if key == WHOLE_IMAGE:
            return self.diff.files
        pair = self.diff.pairs[key - 1]
        if pair.pair.status in (PairStatus.SHARED, PairStatus.IDENTICAL):
            return ()
        return pair.files

    def changes(self, key: int | None = None) -> dict[str, FileDiff]:
        """Tree path -> change, for a selection key (the current one by default)."""
        key = self.layer_index if key is None else key
        found = self._changes.get(key)
        if found is None:
            found = self._changes[key] = {node_path(c): c for c in self.files_of(key)}
        return found

    def change_at(self, path: str) -> FileDiff | None:
        """The change shown at ``path`` in the current selection (None for context dirs)."""
        return self.changes().get(path)

    def _make_view(self, layer_index: int, aggregated: bool) -> TreeView:
        nodes: dict[str, PathNode] = {}
        for path, change in self.changes(layer_index).items():
            state, detail = _STATE[change.kind]
            entry = change.new if change.new is not None else change.old
            node = PathNode(path, entry, state)
            node.detail = detail
            node.delta = change.size_delta_bytes
            node.size = abs(node.delta)
            if node.is_dir:
                node.size = 0  # a directory's own entry carries no bytes; its files do
            nodes[path] = node
        return TreeView.from_nodes(layer_index, nodes)
