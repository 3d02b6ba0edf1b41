"""Read-only panes: the selected layer's details and the image summary."""

from __future__ import annotations

from rich.console import RenderableType
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


class LayerDetails(Static):
    """The selected layer's details."""

    _lines = -1

    def show(self, analysis: Analysis, index: int) -> None:
        """Show one layer; the screen is laid out again only when the height changes (a layout
        pass repaints every pane: it is most of the cost of a layer change)."""
        details = layer_details(analysis, index)
        width = self.content_size.width
        if width <= 0:
            self._lines = -1
            self.update(details)
            return
        console = self.app.console
        lines = len(console.render_lines(details, console.options.update_width(width), pad=False))
        self.update(details, layout=lines != self._lines)
        self._lines = lines

    def on_resize(self) -> None:
        self._lines = -1


class ImageSummary(Static):
    """The image's totals."""

    def show(self, analysis: Analysis) -> None:
        self.update(image_summary(analysis))
