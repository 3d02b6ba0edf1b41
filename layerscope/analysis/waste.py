"""Reclaimable bytes: what layers store that the final file system does not show."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from itertools import repeat
from operator import attrgetter

from layerscope.analysis.changes import ModifyDetail, modify_detail
from layerscope.model import EntryKind, FileEntry, Image
from layerscope.tree import LayerStack, Placed, made_by_columns, stack_layers

__all__ = ["WasteReason", "WasteItem", "WasteReport", "find_waste"]


class WasteReason(Enum):
    """Why a stored copy is not visible; decided by the layer that hid it."""

    OVERWRITTEN = "overwritten"
    """A later layer wrote different content (or another kind of node) at the path."""
    DELETED = "deleted"
    """Whited out, hidden by an opaque dir, or an ancestor replaced by another type."""
    METADATA_REWRITE = "metadata_rewrite"
    """Rewritten with the same content; mode, owner or xattrs changed."""
    IDENTICAL_REWRITE = "identical_rewrite"
    """Rewritten with the same content, mode and owner (mtime may differ)."""

    __hash__ = object.__hash__  # as EntryKind's: singletons, so the C identity hash will do


@dataclass(frozen=True, slots=True)
class WasteItem:
    """One hidden copy of a file."""

    path: str
    reason: WasteReason
    size_bytes: int
    writer_layer_index: int
    writer_created_by: str
    hider_layer_index: int
    hider_created_by: str


@dataclass(frozen=True, slots=True)
class WasteReport:
    """Bytes stored in layers but invisible in the final file system, explained."""

    reclaimable_bytes: int
    reclaimable_ratio: float | None
    """reclaimable_bytes / image size_bytes; None for an image of 0 bytes."""
    overwritten_bytes: int
    deleted_bytes: int
    metadata_rewrite_bytes: int
    identical_rewrite_bytes: int
    items: tuple[WasteItem, ...]
    """Hidden copies of more than 0 bytes, largest first."""
    final_fs_bytes: int
    """Bytes of regular-file content visible in the final file system (content reachable only
    through a visible hardlink counts too)."""
    reclaimable_by_layer: tuple[int, ...]
    """Per layer: bytes it wrote that later layers hide."""
    hidden_by_layer: tuple[int, ...]
    """Per layer: bytes of lower (or its own earlier duplicate) copies it hides."""

    def bytes_for(self, reason: WasteReason) -> int:
        """Reclaimable bytes for one reason."""
        return {
            WasteReason.OVERWRITTEN: self.overwritten_bytes,
            WasteReason.DELETED: self.deleted_bytes,
            WasteReason.METADATA_REWRITE: self.metadata_rewrite_bytes,
            WasteReason.IDENTICAL_REWRITE: self.identical_rewrite_bytes,
        }[reason]


_before = attrgetter("before")


_REWRITE_REASON = {
    ModifyDetail.CONTENT: WasteReason.OVERWRITTEN,
    ModifyDetail.METADATA: WasteReason.METADATA_REWRITE,
    ModifyDetail.IDENTICAL: WasteReason.IDENTICAL_REWRITE,
}


def _rewrite_reason(before: FileEntry, after: FileEntry) -> WasteReason:
    return _REWRITE_REASON[modify_detail(before, after)]


def _items(
    rows: list[tuple[int, str, int, int, WasteReason, int]], created_by: tuple[str, ...]
) -> list[WasteItem]:
    """A WasteItem per row (made column by column: there can be tens of thousands)."""
    negated, paths, writers, _, reasons, hiders = zip(*rows, strict=True) if rows else [()] * 6
    columns = (
        paths,
        reasons,
        [-size for size in negated],
        writers,
        [created_by[index] for index in writers],
        hiders,
        [created_by[index] for index in hiders],
    )
    return made_by_columns(WasteItem, len(rows), columns)


def find_waste(image: Image, *, stack: LayerStack | None = None) -> WasteReport:
    """Every copy of a file that some layer stores and the final file system does not show."""
    if stack is None:
        stack = stack_layers(image)
    count = len(image.layers)
    created_by = tuple(layer.created_by for layer in image.layers)

    # A hidden file whose inode a visible hardlink of the same layer still reaches is not waste.
    linked: set[tuple[int, str]] = set()
    final_fs_bytes = 0
    for node in stack.final.values():
        entry = node.entry
        if entry.kind is EntryKind.FILE:
            final_fs_bytes += entry.size_bytes
        elif entry.kind is EntryKind.HARDLINK and entry.link_target is not None:
            linked.add((node.layer_index, entry.link_target))

    totals = dict.fromkeys(WasteReason, 0)
    by_writer = [0] * count
    by_hider = [0] * count
    # rows sort as the items do (largest first, then path, writer; ties in the order found)
    rows: list[tuple[int, str, int, int, WasteReason, int]] = []
    regular = EntryKind.FILE
    for applied in stack.applied:
        hider = applied.layer_index
        copies: list[tuple[Placed, WasteReason]] = [
            (swap.before, _rewrite_reason(swap.before.entry, swap.after.entry))
            for swap in applied.replaced
        ]
        copies += zip(map(_before, applied.removed), repeat(WasteReason.DELETED))
        for before, reason in copies:  # (once per hidden copy: tens of thousands)
            entry = before.entry
            if entry.kind is not regular or before.implicit:
                continue
            size = entry.size_bytes
            if size == 0:
                continue
            if linked and (before.layer_index, entry.path) in linked:
                final_fs_bytes += size
                continue
            totals[reason] += size
            by_writer[before.layer_index] += size
            by_hider[hider] += size
            rows.append((-size, entry.path, before.layer_index, len(rows), reason, hider))
    rows.sort()
    items = _items(rows, created_by)
    reclaimable = sum(totals.values())
    image_bytes = image.size_bytes
    return WasteReport(
        reclaimable_bytes=reclaimable,
        reclaimable_ratio=reclaimable / image_bytes if image_bytes else None,
        overwritten_bytes=totals[WasteReason.OVERWRITTEN],
        deleted_bytes=totals[WasteReason.DELETED],
        metadata_rewrite_bytes=totals[WasteReason.METADATA_REWRITE],
        identical_rewrite_bytes=totals[WasteReason.IDENTICAL_REWRITE],
        items=tuple(items),
        final_fs_bytes=final_fs_bytes,
        reclaimable_by_layer=tuple(by_writer),
        hidden_by_layer=tuple(by_hider),
    )
