"""The suggestions pane: Dockerfile suggestions with their measured saving (shown only when
there is at least one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from layerscope.render.text import counted
from layerscope.tui.formatting import short_size, size
from layerscope.tui.widgets.fitted import FittedTable

if TYPE_CHECKING:
    from layerscope.analysis.suggest import Suggestion, SuggestionReport

EVIDENCE_SHOWN = 10


def kind_word(suggestion: Suggestion) -> str:
    """A short word for the kind (the id's prefix: ``merge``, ``cleanup``...)."""
    prefix = str(getattr(suggestion, "id", "") or "").split("-")[0]
    if prefix:
        return prefix
    return str(getattr(getattr(suggestion, "kind", None), "value", "?"))


def saving_text(suggestion: Suggestion) -> str:
    """Bytes saved, else rebuilds avoided, else a dash."""
    saved = getattr(suggestion, "estimated_saving_bytes", 0) or 0
    if saved > 0:
        return short_size(saved)
    rebuilds = getattr(suggestion, "estimated_saving_rebuilds", None)
    if rebuilds:
        return counted(rebuilds, "rebuild")
    return "-"


def suggestion_layer(suggestion: Suggestion) -> int | None:
    """The layer to show for a suggestion: its first layer, else its first evidence's layer."""
    layers = tuple(getattr(suggestion, "layers", ()) or ())
    if layers:
        return int(layers[0])
    evidence = tuple(getattr(suggestion, "evidence", ()) or ())
    return int(evidence[0].layer_index) if evidence else None


def suggestion_details(suggestion: Suggestion) -> RenderableType:
    """What a suggestion proposes, why, what it saves, and the files behind the figure."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("Suggest", Text(suggestion.title, style="bold"))
    saved = suggestion.estimated_saving_bytes
    what = [f"{suggestion.kind.value}"]
    if saved:
        what.append(f"saves about {size(saved)}")
    if suggestion.estimated_saving_rebuilds:
        what.append(f"avoids {counted(suggestion.estimated_saving_rebuilds, 'rebuild')}")
    grid.add_row("Kind", f"{suggestion.id}: " + " · ".join(what))
    if suggestion.layers:
        grid.add_row("Layers", ", ".join(str(i) for i in suggestion.layers))
    if suggestion.lines:
        spans = ", ".join(
            str(s.start) if s.start == s.end else f"{s.start}-{s.end}" for s in suggestion.lines
        )
        grid.add_row("Lines", f"Dockerfile {spans}")
    grid.add_row("Why", Text(suggestion.detail))
    evidence = suggestion.evidence
    if evidence:
        shown = evidence[:EVIDENCE_SHOWN]
        lines = Text()
        for i, item in enumerate(shown):
            if i:
                lines.append("\n")
            lines.append(f"{short_size(item.size_bytes):>8}  ", style="bold")
            lines.append(item.path)
            lines.append(f"  (layer {item.layer_index})", style="dim")
        count = getattr(suggestion, "evidence_count", None) or len(evidence)
        grid.add_row(f"Files ({count})" if count > len(shown) else "Files", lines)
    if suggestion.patch_note:
        grid.add_row("Note", Text(suggestion.patch_note, style="italic"))
    return grid


class SuggestionList(FittedTable):
    """Suggestions, largest saving first; Enter (or a click) selects the suggestion's layer."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Go to layer"),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor is on this suggestion."""

        suggestion: Suggestion

    @dataclass
    class Jump(Message):
        """Show this suggestion's first layer (and its first file)."""

        suggestion: Suggestion

    def __init__(self, report: SuggestionReport, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: tuple[Suggestion, ...] = tuple(report.suggestions)
        self.total_saving_bytes = report.total_saving_bytes

    def on_mount(self) -> None:
        self.refill()

    def lay_out(self) -> None:
        self.add_column("Kind", key="kind", width=12)
        self.add_column("Saving", key="saving", width=8)
        room = self.room()
        self.add_column("Suggestion", key="title", width=room)
        for item in self.items:
            self.add_row(
                kind_word(item),
                Text(saving_text(item), justify="right"),
                Text(item.title, no_wrap=True, overflow="ellipsis"),
            )

    def current(self) -> Suggestion | None:
        """The suggestion under the cursor."""
        row = self.cursor_row
        return self.items[row] if 0 <= row < len(self.items) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.items):
            self.post_message(self.Highlighted(self.items[event.cursor_row]))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.items):
            self.post_message(self.Jump(self.items[event.cursor_row]))
