"""The layer list: one row per layer, base-image layers set apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from layerscope.analysis import Analysis
from layerscope.analysis.cache import LayerState
from layerscope.tui.formatting import instruction, short_size
from layerscope.tui.widgets.fitted import FittedTable

CACHE_WORDS = {LayerState.HIT: "hit", LayerState.MISS: "miss"}
"""The Cache column's word for a layer's state against the previous recorded build."""

NARROW_BELOW = 44
"""Pane widths below which the Stored column gives its room to the instruction."""


class LayerList(FittedTable):
    """Layers oldest first; ctrl+a / ctrl+l switch the tree between aggregated and layer-only."""

    BINDINGS = [
        Binding("home,g", "edge(0)", "First", show=False),
        Binding("end,G", "edge(1)", "Last", show=False),
        Binding("ctrl+a", "aggregated(True)", "Aggregated"),
        Binding("ctrl+l", "aggregated(False)", "Layer only"),
    ]

    @dataclass
    class Selected(Message):
        """The highlighted layer changed."""

        layer_index: int

    @dataclass
    class ModeRequested(Message):
        """The user asked for the aggregated (True) or layer-only (False) tree."""

        aggregated: bool

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._analysis: Analysis | None = None
        self._cache: Sequence[LayerState | None] | None = None

    def show(self, analysis: Analysis, cache: Sequence[LayerState | None] | None = None) -> None:
        """Fill the table; ``cache`` holds each layer's state when the history knows it."""
        self._analysis, self._cache = analysis, cache
        self.refill()

    def lay_out(self) -> None:
        analysis, cache = self._analysis, self._cache
        if analysis is None:
            return
        base = analysis.base.count
        index_width = len(str(len(analysis.image.layers) - 1)) + 1
        self.add_column("#", key="index", width=index_width)
        self.add_column("Size", key="size", width=8)
        # Narrow (80 columns): the instruction gets the room; the stored size stays in the
        # layer details below.
        stored = self.size.width >= NARROW_BELOW
        if stored:
            self.add_column("Stored", key="stored", width=8)
        if cache is not None:
            self.add_column("Cache", key="cache", width=5)
        room = self.room()
        self.add_column("Instruction", key="instruction", width=room)
        for layer in analysis.image.layers:
            is_base = layer.index < base
            style = "dim" if is_base else ""
            cells: list[Text] = [
                Text(("B" if is_base else "") + str(layer.index), style=style, justify="right"),
                Text(short_size(layer.size_bytes), style=style, justify="right"),
            ]
            if stored:
                cells.append(
                    Text(short_size(layer.compressed_size_bytes), style=style, justify="right")
                )
            if cache is not None:
                state = cache[layer.index] if layer.index < len(cache) else None
                cells.append(Text(CACHE_WORDS.get(state, "") if state else "", style=style))
            cells.append(Text(instruction(layer.created_by, room), style=style, no_wrap=True))
            self.add_row(*cells, key=str(layer.index))

    def select(self, layer_index: int) -> None:
        """Move the cursor to a layer (posts Selected)."""
        self.move_cursor(row=layer_index)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Selected(event.cursor_row))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()

    def action_edge(self, last: int) -> None:
        self.move_cursor(row=self.row_count - 1 if last else 0)

    def action_aggregated(self, aggregated: bool) -> None:
        self.post_message(self.ModeRequested(aggregated))
