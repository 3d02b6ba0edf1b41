"""Read-only panes: the selected layer's details and the image summary."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from layerscope.analysis import Analysis, WasteReason
from layerscope.render.text import REASON_TEXT, counted
from layerscope.tui.formatting import instruction, percent, size


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def layer_details(analysis: Analysis, index: int) -> RenderableType:
    """Everything about one layer."""
    layer = analysis.image.layers[index]
    changes = analysis.changes[index]
    owner = "base image" if index < analysis.base.count else "yours"
    grid = _grid()
    grid.add_row("Layer", f"{index} of {len(analysis.image.layers)} ({owner})")
    grid.add_row("Command", Text(instruction(layer.created_by)))
    grid.add_row("Created", (layer.history.created if layer.history else None) or "-")
    grid.add_row("Size", f"{size(layer.size_bytes)} ({size(layer.compressed_size_bytes)} stored)")
    grid.add_row(
        "Files",
        Text.assemble(
            (f"+{changes.added}", "green"),
            " added  ",
            (f"~{changes.modified}", "yellow"),
            " modified  ",
            (f"-{changes.removed}", "red"),
            " removed",
        ),
    )
    grid.add_row("Reclaim", f"{size(changes.reclaimable_bytes)} written here, hidden later")
    grid.add_row("Hides", f"{size(analysis.waste.hidden_by_layer[index])} of lower layers")
    grid.add_row("Digest", layer.digest or "-")
    grid.add_row("DiffID", layer.diff_id)
    media = layer.media_type or "-"
    grid.add_row("Media", f"{media} ({layer.compression})")
    if layer.created_by and instruction(layer.created_by) != layer.created_by.strip():
        grid.add_row("History", Text(layer.created_by.strip()))
    return grid


def image_summary(analysis: Analysis) -> RenderableType:
    """Totals, base vs user, efficiency and reclaimable bytes by reason."""
    image, waste, base, dive = analysis.image, analysis.waste, analysis.base, analysis.dive
    grid = _grid()
    grid.add_row("Image", Text(image.ref))
    grid.add_row(
        "Size",
        f"{size(image.size_bytes)} ({size(image.compressed_size_bytes)} stored), "
        + counted(len(image.layers), "layer"),
    )
    grid.add_row(
        "Base",
        f"{size(base.base_bytes)} in {base.count} layer{'s' if base.count != 1 else ''} "
        f"({base.method.value}); yours {size(base.user_bytes)}",
    )
    grid.add_row("Final fs", size(waste.final_fs_bytes))
    grid.add_row(
        "Reclaim",
        Text.assemble(
            (size(waste.reclaimable_bytes), "bold"), f" ({percent(waste.reclaimable_ratio)})"
        ),
    )
    for reason in WasteReason:
        amount = waste.bytes_for(reason)
        if amount:
            grid.add_row("", f"{size(amount)} {REASON_TEXT[reason]}")
    grid.add_row(
        "dive",
        f"efficiency {percent(dive.efficiency_ratio)}, wasted {size(dive.wasted_bytes)}, "
        f"user wasted {percent(dive.user_wasted_ratio)}",
    )
    return grid


class Rendered:
    """A rich renderable drawn once per set of console options: a layer shown again (at the
    same width) costs no new layout of its table, and neither does measuring its height."""

    def __init__(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self._drawn: dict[tuple[object, ...], list[Segment]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (
            options.size,
            options.min_width,
            options.height,
            options.max_height,
            options.justify,
            options.overflow,
            options.no_wrap,
            options.highlight,
            options.markup,
            options.is_terminal,
            options.encoding,
            options.ascii_only,
            options.legacy_windows,
        )
        drawn = self._drawn.get(key)
        if drawn is None:
            drawn = self._drawn[key] = list(console.render(self._renderable, options))
        return drawn

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._renderable)


class LayerDetails(Static):
    """The selected layer's details. The pane is as tall as the tallest layer shown so far at
    this width: moving between layers of different heights then neither makes the Image pane
    below jump nor lays the screen out again (two layout passes that repainted every pane were
    most of the cost of a layer change)."""

    _lines = -1
    _width = -1

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[int, Rendered] = {}

    def show(self, analysis: Analysis, index: int) -> None:
        """Show one layer; the screen is laid out again only when the pane grows."""
        details = self._shown.get(index)
        if details is None:
            details = self._shown[index] = Rendered(layer_details(analysis, index))
        width = self.content_size.width
        if width <= 0:
            self._lines = -1
            self.update(details)
            return
        console = self.app.console
        lines = len(console.render_lines(details, console.options.update_width(width), pad=False))
        taller = lines > self._lines
        self.update(details, layout=taller)
        if taller:
            self._lines = lines
            self.styles.min_height = lines

    def on_resize(self) -> None:
        if self.size.width != self._width:  # its own growth is no reason to start again
            self._width = self.size.width
            self._lines = -1
            self.styles.min_height = None


class ImageSummary(Static):
    """The image's totals."""

    def show(self, analysis: Analysis) -> None:
        self.update(image_summary(analysis))
