"""The loading screen: what is being read, and how far it got."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label, ProgressBar

from layerscope.tui.messages import LoadProgress


class LoadingScreen(Screen[None]):
    """Shown while the image loads and is analysed."""

    def __init__(self, ref_label: str) -> None:
        super().__init__()
        self.ref_label = ref_label

    def compose(self) -> ComposeResult:
        with Vertical(id="loading"):
            yield Label(f"Opening {self.ref_label}", id="loading-title")
            yield Label("Starting…", id="stage")
            yield ProgressBar(total=None, show_eta=False, id="bar")

    def show_progress(self, event: LoadProgress) -> None:
        """Update the stage text and the bar."""
        self.query_one("#stage", Label).update(event.stage)
        bar = self.query_one(ProgressBar)
        bar.update(total=event.total_bytes, progress=event.done_bytes)
