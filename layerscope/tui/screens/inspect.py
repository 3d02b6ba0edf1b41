"""The main screen: layers on the left, the file tree and the waste table on the right."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from layerscope.analysis import Analysis
from layerscope.tui.formatting import size
from layerscope.tui.viewmodel import FileTreeModel, SortOrder
from layerscope.tui.widgets.filetree import FileTree
from layerscope.tui.widgets.info import ImageSummary, LayerDetails
from layerscope.tui.widgets.layers import LayerList
from layerscope.tui.widgets.waste import SHOWN, WasteTable


class InspectScreen(Screen[None]):
    """Mediates between the panes: widgets post messages up, the screen pushes state down."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("ctrl+f,ctrl+underscore,/", "filter", "Filter"),
        Binding("escape", "close_filter", "Close filter", show=False),
    ]

    def __init__(self, analysis: Analysis, cache: Sequence[str | None] | None = None) -> None:
        super().__init__()
        self.analysis = analysis
        self.cache = cache
        self.model = FileTreeModel(analysis)

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="title")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield LayerList(id="layers")
                with VerticalScroll(id="info", can_focus=False):
                    yield LayerDetails(id="details")
                    yield ImageSummary(id="summary")
            with Vertical(id="right"):
                yield Input(placeholder="path filter: glob (*.so) or regex", id="filter")
                yield FileTree(id="tree")
                yield WasteTable(id="waste")
        yield Footer()

    def _title(self) -> str:
        image = self.analysis.image
        return (
            f" layerscope · {image.ref} · {size(image.size_bytes)} · "
            f"{size(self.analysis.waste.reclaimable_bytes)} reclaimable · ? for help"
        )

    def on_mount(self) -> None:
        layers = self.query_one(LayerList)
        layers.border_title = "Layers"
        layers.border_subtitle = "B = base image"
        self.query_one("#details").border_title = "Layer details"
        self.query_one("#summary").border_title = "Image"
        waste = self.query_one(WasteTable)
        count = len(self.analysis.waste.items)
        shown = f"largest {SHOWN} of {count:,}" if count > SHOWN else f"{count}"
        waste.border_title = f"Reclaimable ({shown}) · enter: go to file"
        waste.show(self.analysis.waste.items)
        self.query_one(ImageSummary).show(self.analysis)
        self.query_one(FileTree).attach(self.model)
        layers.show(self.analysis, self.cache)
        self._show_layer(0)
        layers.focus()

    # -- state pushed down ----------------------------------------------------------------------

    def _show_layer(self, index: int) -> None:
        self.model.select_layer(index)
        self.query_one(LayerDetails).show(self.analysis, index)
        self.query_one(FileTree).sync()
        self._caption()

    def _caption(self) -> None:
        model = self.model
        tree = self.query_one(FileTree)
        mode = "aggregated" if model.aggregated else "layer only"
        tree.border_title = f"Files · layer {model.layer_index} · {mode}"
        parts = ["by size" if model.sort is SortOrder.SIZE else "by name"]
        if model.hidden:
            parts.append("hiding " + ",".join(sorted(state.value for state in model.hidden)))
        if model.filter is not None:
            kind = "glob" if model.filter.is_glob else "regex"
            parts.append(f"{kind} {model.filter.text}")
        parts.append(f"{model.row_count} rows")
        tree.border_subtitle = " · ".join(parts)

    # -- messages up ----------------------------------------------------------------------------

    @on(LayerList.Selected)
    def _layer_selected(self, event: LayerList.Selected) -> None:
        if 0 <= event.layer_index < len(self.analysis.image.layers):
            self._show_layer(event.layer_index)

    @on(LayerList.ModeRequested)
    def _mode_requested(self, event: LayerList.ModeRequested) -> None:
        self.model.set_aggregated(event.aggregated)
        self.query_one(FileTree).sync()
        self._caption()

    @on(FileTree.StateChanged)
    def _tree_changed(self) -> None:
        self._caption()

    @on(WasteTable.Jump)
    def _jump(self, event: WasteTable.Jump) -> None:
        item = event.item
        self.query_one(LayerList).select(item.writer_layer_index)
        self._show_layer(item.writer_layer_index)
        if not self.model.go_to(item.path):
            self._clear_filter()
            self.model.reset_filters()
            self.model.go_to(item.path)
        tree = self.query_one(FileTree)
        tree.sync()
        self._caption()
        tree.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            self.model.set_filter(event.value)
        except ValueError as exc:
            event.input.border_subtitle = str(exc)
            return
        event.input.border_subtitle = ""
        self.query_one(FileTree).sync()
        self._caption()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one(FileTree).focus()

    # -- actions --------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        box.focus()

    def action_close_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("-shown"):
            self._clear_filter()
            self.query_one(FileTree).focus()

    def _clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("-shown")
        self.model.set_filter("")
        self.query_one(FileTree).sync()
        self._caption()
