"""The waste table: reclaimable copies with their reason, writer and hider layers."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from layerscope.analysis import WasteItem, WasteReason
from layerscope.tui.formatting import elide_path, short_size
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


NARROW_BELOW = 44
"""Pane widths below which the W→H column gives its room to the path."""

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
        self._layers_in_subtitle = False

    def show(self, items: tuple[WasteItem, ...]) -> None:
        """Fill the table with the largest ``SHOWN`` items (a table of all would be slow)."""
        self._items = items[:SHOWN]
        self.refill()

    def lay_out(self) -> None:
        # the path carries the meaning: the other columns are as wide as their values, no more
        sizes = [short_size(item.size_bytes) for item in self._items]
        self.add_column("Size", key="size", width=self.fit("Size", sizes))
        words = REASON_WORDS if self.size.width >= 60 else SHORT_WORDS
        why = max(len(word) for word in words.values())
        self.add_column("Why", key="reason", width=why)
        # a narrow pane gives the writer→hider column's room to the path; the highlighted row's
        # layers are then in the pane's subtitle
        self._layers_in_subtitle = self.size.width < NARROW_BELOW
        layers = [f"{item.writer_layer_index}→{item.hider_layer_index}" for item in self._items]
        if not self._layers_in_subtitle:
            self.add_column("W→H", key="layers", width=self.fit("W→H", layers))
        room = self.room()
        self.add_column("Path", key="path", width=room)
        for item, shown, moved in zip(self._items, sizes, layers, strict=True):
            cells = [Text(shown, justify="right"), words[item.reason], moved]
            if self._layers_in_subtitle:
                del cells[2]
            self.add_row(*cells, elide_path(item.path, room))
        self._say_layers(self.cursor_row)

    def _say_layers(self, row: int) -> None:
        if not self._layers_in_subtitle or not 0 <= row < len(self._items):
            self.border_subtitle = ""
            return
        item = self._items[row]
        self.border_subtitle = (
            f"written in layer {item.writer_layer_index}, hidden in {item.hider_layer_index}"
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self._items):
            self.post_message(self.Jump(self._items[event.cursor_row]))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._say_layers(event.cursor_row)
