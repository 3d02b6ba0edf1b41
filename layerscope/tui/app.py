"""The inspect application: loads in a thread worker, then shows the inspect screen."""

from __future__ import annotations

import time

from textual import on, work
from textual.app import App
from textual.binding import Binding

from layerscope.analysis import Analysis
from layerscope.errors import LayerscopeError
from layerscope.tui import Analyzer, CacheStates, Loader
from layerscope.tui.messages import AnalysisReady, LoadFailed, LoadProgress
from layerscope.tui.screens.error import ErrorScreen
from layerscope.tui.screens.help import HelpScreen
from layerscope.tui.screens.inspect import InspectScreen
from layerscope.tui.screens.loading import LoadingScreen


class _MessageProgress:
    """Adapts the core's Progress protocol to LoadProgress messages (at most ~20 a second)."""

    def __init__(self, app: InspectApp) -> None:
        self._app = app
        self._stage = ""
        self._done = 0
        self._total: int | None = None
        self._last = 0.0

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        self._stage, self._done, self._total = text, 0, total_bytes
        self._post(force=True)

    def advance(self, done_bytes: int) -> None:
        self._done += done_bytes
        self._post(force=False)

    def _post(self, *, force: bool) -> None:
        now = time.monotonic()
        if force or now - self._last >= 0.05:
            self._last = now
            self._app.post_message(LoadProgress(self._stage, self._done, self._total))


class InspectApp(App[int]):
    """``layerscope inspect REF``: give it a loader, or an analysis already made."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "layerscope"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(
        self,
        loader: Loader | None = None,
        ref_label: str = "",
        *,
        analyzer: Analyzer | None = None,
        analysis: Analysis | None = None,
        cache_states: CacheStates | None = None,
    ) -> None:
        super().__init__()
        if loader is None and analysis is None:
            raise ValueError("InspectApp needs a loader or an analysis")
        self.loader = loader
        self.ref_label = ref_label or (analysis.image.ref if analysis else "")
        self.analyzer = analyzer
        self.analysis = analysis
        self.cache_states = cache_states
        self.exit_code = 0

    def on_mount(self) -> None:
        if self.analysis is not None:
            self._open(self.analysis)
        else:
            self.push_screen(LoadingScreen(self.ref_label))
            self._load()

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        assert self.loader is not None
        sink = _MessageProgress(self)
        try:
            image = self.loader(sink)
            sink.stage(f"Analysing {len(image.layers)} layers")
            if self.analyzer is None:
                from layerscope.analysis import analyze

                analysis = analyze(image)
            else:
                analysis = self.analyzer(image)
        except LayerscopeError as exc:
            self.post_message(LoadFailed(exc.message, exc.exit_code))
        except Exception as exc:  # shown on the error screen, never as a traceback
            self.post_message(LoadFailed(f"internal error: {type(exc).__name__}: {exc}", 1))
        else:
            self.post_message(AnalysisReady(analysis))

    @on(LoadProgress)
    def handle_progress(self, event: LoadProgress) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.screen.show_progress(event)

    @on(AnalysisReady)
    def handle_ready(self, event: AnalysisReady) -> None:
        self.analysis = event.analysis
        self._open(event.analysis)

    @on(LoadFailed)
    def handle_failed(self, event: LoadFailed) -> None:
        self.exit_code = event.exit_code
        self.switch_screen(ErrorScreen(self.ref_label, event.message))

    def _open(self, analysis: Analysis) -> None:
        cache = self.cache_states(analysis.image) if self.cache_states else None
        screen = InspectScreen(analysis, cache)
        if isinstance(self.screen, LoadingScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.exit(self.exit_code, return_code=self.exit_code)
