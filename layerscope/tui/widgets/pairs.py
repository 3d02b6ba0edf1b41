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
        label_width = max(len(r.label) for r in self.pair_rows)
        self.add_column("Layers", key="layers", width=max(6, label_width))
        self.add_column("Status", key="status", width=9)
        self.add_column("Δ Size", key="delta", width=9)
        self.add_column("+/~/-", key="files", width=9)
        room = self.room()
        self.add_column("Instruction", key="instruction", width=room)
        for item in self.pair_rows:
            style = STATUS_STYLES.get(item.status, "")
            dim = "dim" if item.status in ("shared", "identical") else ""
            files = f"{item.added}/{item.modified}/{item.removed}"
            if item.status in ("shared", "identical"):
                files = ""
            self.add_row(
                Text(item.label, style=dim, justify="right"),
                Text(item.status, style=style),
                Text(short_signed(item.size_delta_bytes), style=dim, justify="right"),
                Text(files, style=dim, justify="right"),
                Text(row_instruction(diff, item, room), style=dim, no_wrap=True),
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
