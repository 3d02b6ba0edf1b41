"""The main screen: layers on the left, the file tree and the waste table on the right."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from layerscope.analysis import Analysis
from layerscope.render.suggest_words import words as default_words
from layerscope.render.text import counted
from layerscope.tui.formatting import percent, size
from layerscope.tui.screens.filtering import FilteredTreeScreen
from layerscope.tui.viewmodel import FileTreeModel, SortOrder
from layerscope.tui.widgets.filetree import FileTree
from layerscope.tui.widgets.info import ImageSummary, LayerDetails
from layerscope.tui.widgets.layers import LayerList
from layerscope.tui.widgets.suggestions import (
    SuggestionList,
    SuggestionWords,
    proof_headline,
    suggestion_details,
    suggestion_layer,
)
from layerscope.tui.widgets.waste import SHOWN, WasteTable

if TYPE_CHECKING:
    from layerscope.analysis.cache import LayerState
    from layerscope.analysis.suggest import SuggestionReport


class InspectScreen(FilteredTreeScreen):
    """Mediates between the panes: widgets post messages up, the screen pushes state down."""

    model: FileTreeModel

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("ctrl+f,ctrl+underscore,/", "filter", "Filter"),
        Binding("escape", "close_filter", "Close filter", show=False),
        Binding("H", "app.open_history", "History"),
        # tab toggles Layers <-> Files as in dive; the other panes have their own keys, and the
        # filter box is reached only with / or ctrl+f (so typing never replaces a filter).
        Binding("tab,shift+tab", "switch_pane", "Layers/Files", show=False),
        Binding("s", "focus_pane('suggestions')", "Suggestions", show=False),
        Binding("w", "focus_pane('waste')", "Reclaimable", show=False),
    ]

    def __init__(
        self,
        analysis: Analysis,
        cache: Sequence[LayerState | None] | None = None,
        *,
        suggestions: SuggestionReport | None = None,
        words: SuggestionWords | None = None,
    ) -> None:
        super().__init__()
        self.analysis = analysis
        self.cache = cache
        self.suggestions = suggestions
        self.words = words or default_words
        self.model = FileTreeModel(analysis)
        self._prefetch_timer: Timer | None = None
        self._width_class()

    def _width_class(self) -> None:
        """The breakpoint class of the terminal's width from the start: left to the screen's
        first resize, it came after the first layout, which was then done again (and the
        tables filled again) before the first frame."""
        try:
            width = self.app.size.width
        except Exception:  # no running app (a screen made outside one): the resize sets it
            return
        names = [name for at, name in self.HORIZONTAL_BREAKPOINTS if width >= at]
        for _, name in self.HORIZONTAL_BREAKPOINTS:
            self.set_class(bool(names) and name == names[-1], name)

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="title")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield LayerList(id="layers")
                if self._has_suggestions(self.suggestions):
                    assert self.suggestions is not None
                    yield SuggestionList(self.suggestions, id="suggestions", words=self.words)
                with VerticalScroll(id="info", can_focus=False):
                    yield Static(id="suggestion")
                    yield LayerDetails(id="details")
                    yield ImageSummary(id="summary")
            with Vertical(id="right"):
                yield Input(placeholder="path filter: glob (*.so) or regex", id="filter")
                yield FileTree(id="tree")
                yield WasteTable(id="waste")
        yield Footer()

    def _title(self) -> str:
        """The always-visible line: the figures dive users look for first, then the image (a
        long reference is what a narrow terminal cuts, never the figures)."""
        image, dive = self.analysis.image, self.analysis.dive
        return (
            f" efficiency {percent(dive.efficiency_ratio)} · "
            f"{size(self.analysis.waste.reclaimable_bytes)} reclaimable · "
            f"dive wasted {size(dive.wasted_bytes)} · {size(image.size_bytes)} · "
            f"{image.ref} · ? help"
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
        self._title_suggestions()
        layers.focus()
        self.call_after_refresh(self._drawn)

    def _drawn(self) -> None:
        drawn = getattr(self.app, "screen_drawn", None)
        if drawn is not None:
            drawn(self)

    def action_switch_pane(self) -> None:
        target: Any = LayerList if isinstance(self.focused, FileTree) else FileTree
        self.query_one(target).focus()

    def action_focus_pane(self, pane: str) -> None:
        found = self.query(f"#{pane}")
        if found:
            found.first().focus()

    # -- suggestions ----------------------------------------------------------------------------

    @staticmethod
    def _has_suggestions(report: SuggestionReport | None) -> bool:
        return report is not None and bool(getattr(report, "suggestions", ()))

    def show_suggestions(self, report: SuggestionReport | None) -> None:
        """Add the suggestions pane (only when there is at least one suggestion)."""
        if not self._has_suggestions(report) or self.query(SuggestionList):
            return
        assert report is not None
        self.suggestions = report
        self.query_one("#left").mount(
            SuggestionList(report, id="suggestions", words=self.words), after="#layers"
        )
        self.call_after_refresh(self._title_suggestions)

    def _title_suggestions(self) -> None:
        found = self.query(SuggestionList)
        if not found:
            return
        pane = found.first()
        count = len(pane.items)
        saving = size(pane.total_saving_bytes)
        pane.border_title = f"Suggestions ({count}) · {saving} to save"
        patch = getattr(pane.report, "patch", None)
        pane.border_subtitle = (
            "enter: go to layer · p: write patch" if patch else "enter: go to layer"
        )
        proof = getattr(pane.report, "proof", None)
        if proof is not None:  # what the whole patch saved when built (the estimate: below)
            pane.border_title, pane.border_subtitle = proof_headline(count, proof, bool(patch))

    @on(SuggestionList.Highlighted)
    def _suggestion_highlighted(self, event: SuggestionList.Highlighted) -> None:
        if isinstance(self.focused, SuggestionList):
            self._show_suggestion(event)

    def _show_suggestion(self, event: SuggestionList.Highlighted | None = None) -> None:
        box = self.query_one("#suggestion", Static)
        found = self.query(SuggestionList)
        current = event.suggestion if event is not None else None
        if current is None and found:
            current = found.first().current()
        if current is None:
            box.remove_class("-shown")
            return
        report = found.first().report if found else self.suggestions
        box.update(suggestion_details(current, report, self.words))
        box.add_class("-shown")
        self.query_one("#info", VerticalScroll).scroll_home(animate=False)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, SuggestionList):
            self._show_suggestion()
        elif not isinstance(event.widget, Input):
            self.query_one("#suggestion", Static).remove_class("-shown")

    @on(SuggestionList.Jump)
    def _suggestion_jump(self, event: SuggestionList.Jump) -> None:
        layer = suggestion_layer(event.suggestion)
        if layer is None or not 0 <= layer < len(self.analysis.image.layers):
            return
        self.query_one(LayerList).select(layer)
        self._show_layer(layer)
        evidence = [e for e in event.suggestion.evidence if e.layer_index == layer]
        if evidence and self.model.go_to(evidence[0].path):
            self.query_one(FileTree).sync()
            self._caption()

    # -- state pushed down ----------------------------------------------------------------------

    def _show_layer(self, index: int) -> None:
        self.model.select_layer(index)
        self.query_one(LayerDetails).show(self.analysis, index)
        self.query_one(FileTree).sync()
        self._caption()
        self._schedule_prefetch()

    PREFETCH_DELAY = 0.3
    """Seconds on a layer before the views the next keys may want are built in a worker."""

    def _schedule_prefetch(self) -> None:
        if self._prefetch_timer is not None:
            self._prefetch_timer.stop()
        self._prefetch_timer = self.set_timer(self.PREFETCH_DELAY, self._prefetch)

    def _prefetch(self) -> None:
        self._prefetch_timer = None
        prefetch = getattr(self.app, "prefetch_views", None)
        if prefetch is not None:
            prefetch(self)

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
        parts.append(counted(model.row_count, "row"))
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
        self._schedule_prefetch()

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

    # -- actions --------------------------------------------------------------------------------
