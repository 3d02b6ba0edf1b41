"""What the inspect and diff apps share: progress messages, the error screen, help, quit."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType

from layerscope.errors import LayerscopeError
from layerscope.tui.messages import LoadFailed, LoadProgress
from layerscope.tui.screens.error import ErrorScreen
from layerscope.tui.screens.help import KEYS, LEGEND, HelpScreen, KeyGroups, Legend
from layerscope.tui.screens.loading import LoadingScreen


class MessageProgress:
    """Adapts the core's Progress protocol to LoadProgress messages (at most ~20 a second)."""

    def __init__(self, app: App[Any]) -> None:
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


def failure(exc: Exception) -> LoadFailed:
    """The LoadFailed message for an exception raised while loading (never a traceback)."""
    if isinstance(exc, LayerscopeError):
        return LoadFailed(exc.message, exc.exit_code)
    return LoadFailed(f"internal error: {type(exc).__name__}: {exc}", 1)


INTERRUPTED = 130
"""The exit code of a run interrupted with ctrl+c (128 + SIGINT), as the shell reports it."""


class LayerscopeApp(App[int]):
    """Base of the apps: a loading screen, then the app's screen, or the error screen."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "layerscope"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]
    HELP_KEYS: ClassVar[KeyGroups] = KEYS
    HELP_LEGEND: ClassVar[Legend] = LEGEND

    def __init__(self, ref_label: str) -> None:
        super().__init__()
        self.ref_label = ref_label
        self.exit_code = 0

    @on(LoadProgress)
    def handle_progress(self, event: LoadProgress) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.screen.show_progress(event)

    @on(LoadFailed)
    def handle_failed(self, event: LoadFailed) -> None:
        self.exit_code = event.exit_code
        self.switch_screen(ErrorScreen(self.ref_label, event.message))

    def show_main(self, screen: Any) -> None:
        """Replace the loading screen with ``screen`` (or push it when there is none)."""
        if isinstance(self.screen, LoadingScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.HELP_KEYS, self.HELP_LEGEND))

    async def action_quit(self) -> None:
        self.exit(self.exit_code, return_code=self.exit_code)

    async def action_interrupt(self) -> None:
        """ctrl+c: quit; while still loading it interrupts the work, so exit 130 as the text
        mode does (a shell script sees the run did not finish)."""
        if isinstance(self.screen, LoadingScreen):
            self.exit_code = INTERRUPTED
            self.exit(INTERRUPTED, return_code=INTERRUPTED)
        else:
            await self.action_quit()
