"""The pair list of the diff screen: the whole image, the shared prefix once, then each pair."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from layerscope.analysis.diff import ImageDiff
from layerscope.render.diff.text import pair_instruction
from layerscope.tui.diffmodel import PairRow, pair_rows
from layerscope.tui.formatting import short_signed, size
from layerscope.tui.widgets.fitted import FittedTable

NARROW_BELOW = 56
"""Pane widths below which the Status column gives its room to the instruction."""

STATUS_STYLES = {
    "image": "bold",
    "shared": "dim",
    "identical": "dim",
    "changed": "yellow",
    "added": "green",
    "removed": "red",
}


def row_instruction(diff: ImageDiff, row: PairRow, width: int) -> str:
    """What a row stands for: the whole image, the shared base, or the pair's instruction."""
    if row.status == "image":
        return "whole image: final file systems compared"
    if row.status == "shared":
        plural = "s" if row.shared_count != 1 else ""
        return f"same base / cache hit: {row.shared_count} layer{plural}, {size(row.shared_bytes)}"
    assert row.pair_index is not None
    return pair_instruction(diff, diff.pairs[row.pair_index].pair, width)


class PairList(FittedTable):
    """Aligned layer pairs; the highlighted row picks what the file tree shows."""

    BINDINGS = [
        Binding("home,g", "edge(0)", "First", show=False),
        Binding("end,G", "edge(1)", "Last", show=False),
    ]

    @dataclass
    class Selected(Message):
        """The highlighted row changed."""

        row: PairRow

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._diff: ImageDiff | None = None
        self.pair_rows: tuple[PairRow, ...] = ()

    def show(self, diff: ImageDiff) -> None:
        """Fill the table."""
        self._diff = diff
        self.pair_rows = pair_rows(diff)
        self.refill()

    def lay_out(self) -> None:
        diff = self._diff
        if diff is None:
            return
        # counts and sizes are shown whole, each column as wide as its values; the instruction
        # takes what is left, and a narrow pane gives it the Status column's room (the row's
        # colour and the instruction cell still say what a row is)
        rows = self.pair_rows
        deltas = [short_signed(r.size_delta_bytes) for r in rows]
        counts = [
            "" if r.status in ("shared", "identical") else f"{r.added}/{r.modified}/{r.removed}"
            for r in rows
        ]
        with_status = self.size.width >= NARROW_BELOW
        header = "Layers" if with_status else "#"
        self.add_column(header, key="layers", width=self.fit(header, (r.label for r in rows)))
        if with_status:
            self.add_column(
                "Status", key="status", width=self.fit("Status", (r.status for r in rows))
            )
        self.add_column("Δ Size", key="delta", width=self.fit("Δ Size", deltas))
        self.add_column("+/~/-", key="files", width=self.fit("+/~/-", counts))
        room = self.room()
        self.add_column("Instruction", key="instruction", width=room)
        for item, delta, files in zip(rows, deltas, counts, strict=True):
            style = STATUS_STYLES.get(item.status, "")
            dim = "dim" if item.status in ("shared", "identical") else ""
            status = [Text(item.status, style=style)] if with_status else []
            self.add_row(
                Text(item.label, style=dim if with_status else style, justify="right"),
                *status,
                Text(delta, style=dim, justify="right"),
                Text(files, style=dim, justify="right"),
                Text(
                    row_instruction(diff, item, room), style=dim, no_wrap=True, overflow="ellipsis"
                ),
                key=str(item.key),
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.pair_rows):
            self.post_message(self.Selected(self.pair_rows[event.cursor_row]))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()

    def action_edge(self, last: int) -> None:
        self.move_cursor(row=self.row_count - 1 if last else 0)
