"""Per-layer file changes: what each layer added, modified and removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from layerscope.model import EntryKind, FileEntry, Image
from layerscope.tree import LayerApplied, LayerStack, Placed, RemovalCause, stack_layers

__all__ = [
    "ChangeKind",
    "ModifyDetail",
    "FileChange",
    "LayerChanges",
    "layer_changes",
    "modify_detail",
]


class ChangeKind(Enum):
    """What a layer did to a path."""

    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"


class ModifyDetail(Enum):
    """How a modified path differs from the version below it."""

    CONTENT = "content"
    """Kind, size, content hash, link target or device differ."""
    METADATA = "metadata"
    """Same content; mode, uid, gid or xattrs differ."""
    IDENTICAL = "identical"
    """Same content and metadata (mtime may differ)."""


@dataclass(frozen=True, slots=True)
class FileChange:
    """One path changed by one layer."""

    path: str
    kind: ChangeKind
    before: Placed | None
    """The version visible below this layer, with the layer that wrote it (None if ADDED)."""
    after: Placed | None
    """The version this layer wrote (None if REMOVED)."""
    detail: ModifyDetail | None = None
    """Set for MODIFIED only."""
    mtime_changed: bool = False
    """For MODIFIED: the modification time differs."""
    removed_by: RemovalCause | None = None
    """For REMOVED: whiteout, opaque dir, or an ancestor replaced by another type."""

    @property
    def is_dir(self) -> bool:
        """True when every side of the change is a directory (such changes are not counted)."""
        sides = [side for side in (self.before, self.after) if side is not None]
        return all(side.entry.kind is EntryKind.DIR for side in sides)

    @property
    def mtime_only(self) -> bool:
        """Modified with identical content and metadata; only the mtime differs."""
        return self.detail is ModifyDetail.IDENTICAL and self.mtime_changed

    @property
    def size_delta_bytes(self) -> int:
        """Bytes after minus bytes before."""
        after = self.after.entry.size_bytes if self.after else 0
        before = self.before.entry.size_bytes if self.before else 0
        return after - before


@dataclass(frozen=True, slots=True)
class LayerChanges:
    """Everything one layer changed. Counts are computed at once; the list of changes (sorted by
    path) is built the first time it is asked for: most reports need only the counts."""

    layer_index: int
    added: int
    """Non-directory paths added."""
    modified: int
    """Non-directory paths modified (type changes included)."""
    removed: int
    """Non-directory paths removed."""
    added_bytes: int
    """Sum of the sizes of the added files."""
    removed_bytes: int
    """Sum of the sizes of the removed files (bytes the layer hid, not bytes it freed)."""
    reclaimable_bytes: int
    """Bytes this layer wrote that later layers hide (see find_waste)."""
    applied: LayerApplied = field(repr=False, compare=False)
    _memo: list[tuple[FileChange, ...]] = field(
        default_factory=list, repr=False, compare=False, init=False
    )

    @property
    def changes(self) -> tuple[FileChange, ...]:
        """Every change of this layer, implicit directories omitted, sorted by path."""
        if not self._memo:
            self._memo.append(_change_list(self.applied))
        return self._memo[0]


def modify_detail(old: FileEntry, new: FileEntry) -> ModifyDetail:
    """How ``new`` differs from the ``old`` entry it was written over."""
    if not old.same_content(new):
        return ModifyDetail.CONTENT
    if not old.same_metadata(new):
        return ModifyDetail.METADATA
    return ModifyDetail.IDENTICAL


def _modification(path: str, before: Placed, after: Placed) -> FileChange:
    old, new = before.entry, after.entry
    return FileChange(
        path,
        ChangeKind.MODIFIED,
        before,
        after,
        detail=modify_detail(old, new),
        mtime_changed=old.mtime != new.mtime,
    )


def _change_list(applied: LayerApplied) -> tuple[FileChange, ...]:
    changes: list[FileChange] = []
    for node in applied.added:
        changes.append(FileChange(node.entry.path, ChangeKind.ADDED, None, node))
    for swap in applied.replaced:
        if swap.before.implicit:
            changes.append(FileChange(swap.path, ChangeKind.ADDED, None, swap.after))
        else:
            changes.append(_modification(swap.path, swap.before, swap.after))
    for removal in applied.removed:
        if not removal.before.implicit:
            changes.append(
                FileChange(
                    removal.path,
                    ChangeKind.REMOVED,
                    removal.before,
                    None,
                    removed_by=removal.cause,
                )
            )
    changes.sort(key=lambda change: change.path)
    return tuple(changes)


def changes_of(applied: LayerApplied, reclaimable_bytes: int = 0) -> LayerChanges:
    """Count what the tree did for one layer (implicit dirs omitted; directories not counted)."""
    DIR = EntryKind.DIR
    added = modified = removed = added_bytes = removed_bytes = 0
    for node in applied.added:
        if node.entry.kind is not DIR:
            added += 1
            added_bytes += node.entry.size_bytes
    for swap in applied.replaced:
        after = swap.after.entry
        if swap.before.implicit:
            if after.kind is not DIR:
                added += 1
                added_bytes += after.size_bytes
        elif not (after.kind is DIR and swap.before.entry.kind is DIR):
            modified += 1
    for removal in applied.removed:
        before = removal.before
        if not before.implicit and before.entry.kind is not DIR:
            removed += 1
            removed_bytes += before.entry.size_bytes
    return LayerChanges(
        layer_index=applied.layer_index,
        added=added,
        modified=modified,
        removed=removed,
        added_bytes=added_bytes,
        removed_bytes=removed_bytes,
        reclaimable_bytes=reclaimable_bytes,
        applied=applied,
    )


def layer_changes(
    image: Image,
    *,
    stack: LayerStack | None = None,
    reclaimable_by_layer: tuple[int, ...] | None = None,
) -> tuple[LayerChanges, ...]:
    """One LayerChanges per layer of ``image``, oldest first.

    ``stack`` and ``reclaimable_by_layer`` (from ``WasteReport.reclaimable_by_layer``) may be
    passed to reuse work already done; otherwise they are computed.
    """
    if stack is None:
        stack = stack_layers(image)
    if reclaimable_by_layer is None:
        from layerscope.analysis.waste import find_waste

        reclaimable_by_layer = find_waste(image, stack=stack).reclaimable_by_layer
    return tuple(
        changes_of(applied, reclaimable_by_layer[applied.layer_index]) for applied in stack.applied
    )
