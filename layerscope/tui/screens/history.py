"""The History screen (key H): size and cache hit ratio across the recorded builds of the
image's repository, as unicode bar charts, and the per-build table."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from layerscope.analysis.cache import CacheHistory, history_series
from layerscope.render.history_text import SHORT_REASON
from layerscope.tui.formatting import percent, short_size
from layerscope.tui.historyview import bar_levels, bar_rows, build_rows, explain_empty

_AXIS = 12
"""Width of the chart's left labels."""
_REASONS = {reason.value: words for reason, words in SHORT_REASON.items()}


def _hit_style(ratio: float | None) -> str:
    if ratio is None:
        return "dim"
    return "green" if ratio >= 0.8 else "yellow" if ratio >= 0.5 else "red"


def history_chart(
    history: CacheHistory, width: int, height: int, current: str | None
) -> tuple[Text, int]:
    """The two charts (size, hit ratio) for the builds that fit ``width``; (text, builds shown)."""
    series = history_series(history)
    fit = max(1, (width - _AXIS - 2) // 2)
    start = max(0, len(series.size_bytes) - fit)
    sizes = [float(v) for v in series.size_bytes[start:]]
    ratios = list(series.hit_ratio[start:])
    ids = [r.build.image_id for r in history.builds[start:]]
    low, high = min(sizes), max(sizes)
    size_rows = bar_rows(bar_levels(sizes, height, low, high, floor=True), height)
    hit_rows = bar_rows(bar_levels(ratios, height, 0.0, 1.0, floor=False), height)
    text = Text(no_wrap=True, overflow="crop")

    def chart(rows: list[str], top: str, bottom: str, styles: list[str]) -> None:
        for i, row in enumerate(rows):
            label = top if i == 0 else bottom if i == len(rows) - 1 else ""
            text.append(f"{label:>{_AXIS}} ┤", style="dim")
            for j in range(0, len(row), 2):
                text.append(row[j : j + 2], style=styles[j // 2])
            text.append("\n")

    size_styles = ["bold yellow" if i == current else "cyan" for i in ids]
    hit_styles = [
        "bold yellow" if i == current else _hit_style(r) for i, r in zip(ids, ratios, strict=True)
    ]
    text.append("Size", style="bold")
    text.append(f"  {short_size(int(low))} … {short_size(int(high))}\n", style="dim")
    chart(size_rows, short_size(int(high)), short_size(int(low)), size_styles)
    text.append("Cache hit ratio", style="bold")
    text.append("  hits / layers against the build before\n", style="dim")
    chart(hit_rows, "100%", "0%", hit_styles)
    positions = "".join(f"{r.position % 10} " for r in history.builds[start:])
    text.append(f"{'build':>{_AXIS}}  {positions}", style="dim")
    return text, len(sizes)


class HistoryScreen(Screen[None]):
    """Recorded builds of the image's repository; esc or H goes back."""

    BINDINGS = [
        Binding("escape,H", "dismiss", "Back"),
        Binding("k", "cursor('up')", "Up", show=False),
        Binding("j", "cursor('down')", "Down", show=False),
    ]

    def __init__(self, ref_label: str, current_image_id: str | None, available: bool) -> None:
        super().__init__()
        self.ref_label = ref_label
        self.current = current_image_id
        self.available = available
        self.history: CacheHistory | None = None
        self.loaded = False
        self._pending: tuple[CacheHistory | None, str | None] | None = None
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Static(f" layerscope · history of {self.ref_label} · esc: back", id="title")
        yield Static("Reading the build history…", id="history-chart")
        yield DataTable[Any](id="builds", cursor_type="row", zebra_stripes=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history-chart").border_title = "Size and cache hits across builds"
        self.query_one("#builds").border_title = "Builds (oldest first)"
        self._ready = True
        if self._pending is not None:
            self.show(*self._pending)
        elif not self.available:
            self.show(None)

    def show(self, history: CacheHistory | None, error: str | None = None) -> None:
        """Draw the charts and the table (or say why there is nothing to draw)."""
        if not self._ready:
            self._pending = (history, error)
            return
        self.history, self.loaded = history, True
        if history is not None and history.builds:
            repository = history.builds[-1].build.repository
            count = len(history.builds)
            self.query_one("#title", Static).update(
                f" layerscope · history of {repository} · {count} build"
                f"{'s' if count != 1 else ''} · esc: back"
            )
        self._draw(error)
        table = self.query_one("#builds", DataTable)
        table.clear(columns=True)
        if history is None or not history.builds:
            table.display = False
            return
        table.display = True
        wide = self.size.width >= 100
        fixed = [("#", 3), ("Size", 8), ("Layers", 6), ("Hits", 5), ("Ratio", 6)]
        if wide:
            fixed.insert(1, ("Created", 16))
        miss = 24 if wide else 16
        used = sum(w for _, w in fixed) + miss + 2 * (len(fixed) + 2) + 6
        columns = [*fixed[:1], ("Build", max(10, self.size.width - used)), *fixed[1:]]
        for name, width in [*columns, ("First miss", miss)]:
            table.add_column(name, key=name, width=width)
        current_row = 0
        for i, row in enumerate(build_rows(history, _REASONS, self.current)):
            style = "bold yellow" if row.current else ""
            if row.current:
                current_row = i
            cells = [
                Text(str(row.position), style=style, justify="right"),
                Text(("▶ " if row.current else "") + row.label, style=style),
                Text(short_size(row.size_bytes), style=style, justify="right"),
                Text(str(row.layers), style=style, justify="right"),
                Text(row.hits, style=style, justify="right"),
                Text(percent(row.hit_ratio), style=_hit_style(row.hit_ratio), justify="right"),
                Text(row.first_miss, style=style),
            ]
            if wide:
                cells.insert(2, Text(row.created, style=style))
            table.add_row(*cells)
        table.move_cursor(row=current_row)
        table.focus()

    def _draw(self, error: str | None = None) -> None:
        chart = self.query_one("#history-chart", Static)
        history = self.history
        note = error or explain_empty(history, self.available)
        if history is None or not history.builds:
            chart.update(Text(note or "", style="italic"))
            return
        height = 2 if self.size.height < 30 else 4
        text, shown = history_chart(
            history, chart.size.width or self.size.width - 4, height, self.current
        )
        total = len(history.builds)
        if shown < total:
            text.append(f"\n(the last {shown} of {total} builds)", style="dim")
        if note:
            text.append(f"\n{note}", style="italic")
        chart.update(text)

    def on_resize(self) -> None:
        if self.loaded:
            self._draw()

    def action_cursor(self, direction: str) -> None:
        table = self.query_one("#builds", DataTable)
        if direction == "up":
            table.action_cursor_up()
        else:
            table.action_cursor_down()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
