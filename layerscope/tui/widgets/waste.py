"""The waste table: reclaimable copies with their reason, writer and hider layers."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from layerscope.analysis import WasteItem, WasteReason
from layerscope.tui.formatting import short_size
from layerscope.tui.widgets.fitted import FittedTable

REASON_WORDS = {
    WasteReason.OVERWRITTEN: "overwritten",
    WasteReason.DELETED: "deleted",
    WasteReason.METADATA_REWRITE: "chmod/chown",
    WasteReason.IDENTICAL_REWRITE: "same again",
}

SHORT_WORDS = {
    WasteReason.OVERWRITTEN: "over",
    WasteReason.DELETED: "del",
    WasteReason.METADATA_REWRITE: "meta",
    WasteReason.IDENTICAL_REWRITE: "same",
}


SHOWN = 200
"""Items listed at most (largest first); ``inspect --json`` has them all."""


class WasteTable(FittedTable):
    """Every reclaimable item, largest first; Enter (or a click) jumps to it."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Go to file"),
    ]

    @dataclass
    class Jump(Message):
        """Show this item's file in the layer that wrote it."""

        item: WasteItem

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: tuple[WasteItem, ...] = ()

    def show(self, items: tuple[WasteItem, ...]) -> None:
        """Fill the table with the largest ``SHOWN`` items (a table of all would be slow)."""
        self._items = items[:SHOWN]
        self.refill()

    def lay_out(self) -> None:
        self.add_column("Size", key="size", width=8)
        words = REASON_WORDS if self.size.width >= 60 else SHORT_WORDS
        why = max(len(word) for word in words.values())
        self.add_column("Why", key="reason", width=why)
        self.add_column("W→H", key="layers", width=5)
        room = self.room()
        self.add_column("Path", key="path", width=room)
        for item in self._items:
            path = item.path if len(item.path) <= room else "…" + item.path[-(room - 1) :]
            self.add_row(
                Text(short_size(item.size_bytes), justify="right"),
                words[item.reason],
                f"{item.writer_layer_index}→{item.hider_layer_index}",
                path,
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self._items):
            self.post_message(self.Jump(self._items[event.cursor_row]))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
