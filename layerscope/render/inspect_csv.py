"""``layerscope inspect --format csv`` and ``--format csv-files``: the layer table and the file
table as CSV for spreadsheets and pandas (columns documented in docs/csv.md).

RFC 4180 through the csv module (CRLF line ends, fields with commas, quotes or line breaks
quoted), one header row, columns in a fixed order, sizes as integer bytes, booleans as
``true`` / ``false``, a figure that is unknown as an empty field. Nothing is rounded or
humanised: the tables are for arithmetic.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis import Analysis

LAYER_COLUMNS = (
    "index",
    "digest",
    "diff_id",
    "size_bytes",
    "compressed_size_bytes",
    "is_base",
    "created",
    "created_by",
    "entries",
    "added",
    "modified",
    "removed",
    "added_bytes",
    "removed_bytes",
    "reclaimable_bytes",
    "hides_bytes",
)
"""``--format csv``: one row per layer, oldest first."""

FILE_COLUMNS = (
    "layer",
    "path",
    "change",
    "kind",
    "detail",
    "size_bytes",
    "size_delta_bytes",
    "reclaimable_reason",
    "hidden_by_layer",
)
"""``--format csv-files``: one row per path a layer changed, by layer then path."""

Cell = str | int | bool | None


def _table(columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # the excel dialect: RFC 4180 quoting, CRLF
    writer.writerow(columns)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()


def _cell(value: Cell) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def layers_csv(analysis: Analysis) -> str:
    """The layer table: sizes, the files each layer changed, the bytes it wastes and hides."""
    image, waste = analysis.image, analysis.waste
    return _table(
        LAYER_COLUMNS,
        (
            (
                layer.index,
                layer.digest,
                layer.diff_id,
                layer.size_bytes,
                layer.compressed_size_bytes,
                layer.index < analysis.base.count,
                layer.history.created if layer.history else None,
                layer.created_by,
                len(layer.entries),
                changes.added,
                changes.modified,
                changes.removed,
                changes.added_bytes,
                changes.removed_bytes,
                waste.reclaimable_by_layer[layer.index],
                waste.hidden_by_layer[layer.index],
            )
            for layer, changes in zip(image.layers, analysis.changes, strict=True)
        ),
    )


def files_csv(analysis: Analysis) -> str:
    """The file table: every path each layer added, modified or removed, with the size of the
    copy it wrote and, when a later layer hides that copy, why and which layer."""
    from ..analysis.changes import ChangeKind, ModifyDetail
    from ..model import EntryKind

    # a row per file of the image, 100k and more: names looked up once, cells written as they are
    change_name = {kind: kind.value for kind in ChangeKind}
    kind_name = {kind: kind.value for kind in EntryKind}
    detail_name: dict[ModifyDetail | None, str] = {None: ""}
    detail_name.update((detail, detail.value) for detail in ModifyDetail)
    hidden: dict[tuple[str, int], tuple[str, int | str]] = {
        (item.path, item.writer_layer_index): (item.reason.value, item.hider_layer_index)
        for item in analysis.waste.items
        if item.hider_layer_index > item.writer_layer_index  # not a duplicate within a layer
    }
    visible: tuple[str, int | str] = ("", "")

    def rows() -> Iterable[Sequence[Cell]]:
        for changes in analysis.changes:
            index = changes.layer_index
            for change in changes.changes:
                after, before = change.after, change.before
                size = after.entry.size_bytes if after is not None else 0
                side = after or before
                assert side is not None  # a change has a before, an after or both
                reason, hider = hidden.get((change.path, index), visible) if after else visible
                yield (
                    index,
                    change.path,
                    change_name[change.kind],
                    kind_name[side.entry.kind],
                    detail_name[change.detail],
                    size,
                    size - (before.entry.size_bytes if before is not None else 0),
                    reason,
                    hider,
                )

    out = io.StringIO()
    writer = csv.writer(out)  # the excel dialect: RFC 4180 quoting, CRLF
    writer.writerow(FILE_COLUMNS)
    writer.writerows(rows())
    return out.getvalue()
