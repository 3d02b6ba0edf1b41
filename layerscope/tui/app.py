"""The inspect application: loads in a thread worker, then shows the inspect screen; the
suggestions and the build history are computed in further workers when asked for."""

from __future__ import annotations

import gc
import threading
from typing import TYPE_CHECKING

from textual import on, work

from layerscope.analysis import Analysis
from layerscope.collector import made_frozen
from layerscope.tui import Analyzer, CacheStates, HistoryLoader, Loader, PatchWriter, Suggester
from layerscope.tui.base import LayerscopeApp, MessageProgress, failure
from layerscope.tui.messages import AnalysisReady, HistoryReady, SuggestionsReady
from layerscope.tui.screens.confirm import ConfirmScreen
from layerscope.tui.screens.history import HistoryScreen
from layerscope.tui.screens.inspect import InspectScreen
from layerscope.tui.screens.loading import LoadingScreen

if TYPE_CHECKING:
    from layerscope.analysis.suggest import SuggestionReport
    from layerscope.tui.widgets.suggestions import SuggestionWords


class InspectApp(LayerscopeApp):
    """``layerscope inspect REF``: give it a loader, or an analysis already made."""

    def __init__(
        self,
        loader: Loader | None = None,
        ref_label: str = "",
        *,
        analyzer: Analyzer | None = None,
        analysis: Analysis | None = None,
        cache_states: CacheStates | None = None,
        history_loader: HistoryLoader | None = None,
        suggester: Suggester | None = None,
        suggestions: SuggestionReport | None = None,
        patch_writer: PatchWriter | None = None,
        background: bool = True,
        suggestion_words: SuggestionWords | None = None,
    ) -> None:
        if loader is None and analysis is None:
            raise ValueError("InspectApp needs a loader or an analysis")
        super().__init__(ref_label or (analysis.image.ref if analysis else ""))
        self.loader = loader
        self.analyzer = analyzer
        self.analysis = analysis
        self.cache_states = cache_states
        self.history_loader = history_loader
        self.suggester = suggester
        self.suggestions = suggestions
        self.patch_writer = patch_writer
        """Writes the combined patch next to the Dockerfile (key w in the suggestions pane)."""
        self.background = background
        """Build the other tree mode's view in a worker after the first screen."""
        self.suggestion_words = suggestion_words
        """The words of a suggestion (default: ``render.suggest_words.words``)."""
        self.history: HistoryReady | None = None
        self.suggesting = False
        """The suggester has been started (once the inspect screen was first drawn)."""
        self.suggested = False
        """The suggester has finished (its report, or None, is in ``suggestions``)."""

    def on_mount(self) -> None:
        if self.analysis is not None:
            self._open(self.analysis)
        else:
            self.push_screen(LoadingScreen(self.ref_label))
            # A daemon thread, not a Textual worker: ctrl+c on the loading screen must not wait
            # for a read that may block (a silent registry) before the app can exit.
            threading.Thread(target=self._load, name="layerscope-load", daemon=True).start()

    def _load(self) -> None:
        assert self.loader is not None
        sink = MessageProgress(self)
        try:
            image = self.loader(sink)
            sink.stage(f"Analysing {len(image.layers)} layers")
            if self.analyzer is None:
                from layerscope.analysis import analyze

                analysis = analyze(image)
            else:
                analysis = self.analyzer(image)
        except Exception as exc:  # shown on the error screen, never as a traceback
            self.post_message(failure(exc))
        else:
            self.post_message(AnalysisReady(analysis))

    @on(AnalysisReady)
    def handle_ready(self, event: AnalysisReady) -> None:
        self.analysis = event.analysis
        self._open(event.analysis)

    def _open(self, analysis: Analysis) -> None:
        # The image, its analysis and the first tree view (made by the screen) live as long as
        # the app: out of the collector's generations, every later full collection skips them
        # (over a 135k-file image one took up to 150 ms, paid by whichever key press did it).
        gc.freeze()
        cache = self.cache_states(analysis.image) if self.cache_states else None
        # the first view too, frozen before the collector could first walk its 137k nodes
        screen = made_frozen(
            lambda: InspectScreen(
                analysis, cache, suggestions=self.suggestions, words=self.suggestion_words
            )
        )
        self.show_main(screen)
        # the screen asks for screen_drawn once it is on the terminal, and for prefetch_views
        # once it has been on a layer for a moment

    def screen_drawn(self, screen: InspectScreen) -> None:
        """The inspect screen is drawn: start the suggestions now. Started with the screen,
        the worker took the interpreter from the first screen's drawing half the time."""
        if self.suggester is not None and self.suggestions is None and not self.suggesting:
            self.suggesting = True
            self._suggest(screen.analysis)

    # -- background work ------------------------------------------------------------------------

    def prefetch_views(self, screen: InspectScreen) -> None:
        """Build, in a worker, the tree views the next keys are likely to want."""
        if self.background:
            model = screen.model
            self._prefetch(screen, model.layer_index, model.aggregated)

    @work(thread=True, exclusive=True, group="prefetch")
    def _prefetch(self, screen: InspectScreen, layer: int, aggregated: bool) -> None:
        """The other mode of this layer (the first ctrl+a / ctrl+l is then instant), then the
        same mode of the next layer."""
        model = screen.model
        model.prepare(layer, not aggregated)
        if layer + 1 < len(model.analysis.image.layers if model.analysis else ()):
            model.prepare(layer + 1, aggregated)

    @work(thread=True, exclusive=True, group="suggest")
    def _suggest(self, analysis: Analysis) -> None:
        assert self.suggester is not None
        try:
            report = self.suggester(analysis)
        except Exception:  # suggestions are a bonus: no pane rather than a crash
            report = None
        self.post_message(SuggestionsReady(report))

    @on(SuggestionsReady)
    def handle_suggestions(self, event: SuggestionsReady) -> None:
        self.suggestions = event.report
        self.suggested = True
        for screen in self.screen_stack:
            if isinstance(screen, InspectScreen):
                screen.show_suggestions(event.report)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The p key (write the patch) exists only when a Dockerfile was given: somewhere to
        write."""
        if action == "write_patch":
            return self.patch_writer is not None
        return super().check_action(action, parameters)

    def action_write_patch(self) -> None:
        """Write the combined patch next to the Dockerfile, asking before it overwrites."""
        report = self.suggestions
        if self.patch_writer is None or report is None or not report.patch:
            self.notify("no combined patch to write", severity="warning")
            return
        patch = report.patch
        try:
            self._wrote(self.patch_writer(patch, False))
        except FileExistsError as exc:

            def answer(yes: bool | None) -> None:
                if yes:
                    self._write_or_say(patch)

            self.push_screen(
                ConfirmScreen(f"{exc.filename or 'the patch file'} exists: overwrite it?"), answer
            )
        except OSError as exc:
            self.notify(f"could not write the patch: {exc.strerror or exc}", severity="error")

    def _write_or_say(self, patch: str) -> None:
        assert self.patch_writer is not None
        try:
            self._wrote(self.patch_writer(patch, True))
        except OSError as exc:
            self.notify(f"could not write the patch: {exc.strerror or exc}", severity="error")

    def _wrote(self, said: str) -> None:
        self.notify(said, title="Combined patch written", timeout=8)

    # -- history ----------------------------------------------------------------------------------

    def action_open_history(self) -> None:
        """Show the History screen (the history is read once, in a worker)."""
        if self.analysis is None or isinstance(self.screen, HistoryScreen):
            return
        image = self.analysis.image
        screen = HistoryScreen(self.ref_label, image.image_id, self.history_loader is not None)
        self.push_screen(screen)
        if self.history is not None:
            screen.show(self.history.history, self.history.error)
        elif self.history_loader is not None:
            self._read_history(self.analysis)

    @work(thread=True, exclusive=True, group="history")
    def _read_history(self, analysis: Analysis) -> None:
        assert self.history_loader is not None
        try:
            self.post_message(HistoryReady(self.history_loader(analysis.image)))
        except Exception as exc:
            self.post_message(HistoryReady(None, f"Could not read the build history: {exc}"))

    @on(HistoryReady)
    def handle_history(self, event: HistoryReady) -> None:
        self.history = event
        for screen in self.screen_stack:
            if isinstance(screen, HistoryScreen):
                screen.show(event.history, event.error)
