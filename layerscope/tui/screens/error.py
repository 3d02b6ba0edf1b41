"""The error screen: one readable message instead of a traceback."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label, Static


class ErrorScreen(Screen[None]):
    """Says what went wrong; q, esc or enter quits with the error's exit code."""

    BINDINGS = [Binding("q,escape,enter", "app.quit", "Quit")]

    def __init__(self, ref_label: str, message: str) -> None:
        super().__init__()
        self.ref_label = ref_label
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error"):
            yield Label(f"Could not open {self.ref_label}", id="error-title")
            yield Static(self.message, id="error-message")
            yield Label("Press q to quit.", id="error-hint")
