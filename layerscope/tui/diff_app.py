"""The diff application: loads and compares both images in a thread worker, then shows them."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work

from layerscope.analysis.diff import ImageDiff
from layerscope.tui import DiffLoader
from layerscope.tui.base import LayerscopeApp, MessageProgress, failure
from layerscope.tui.messages import DiffReady
from layerscope.tui.screens.diff import DIFF_KEYS, DIFF_LEGEND, DiffScreen
from layerscope.tui.screens.help import KeyGroups, Legend
from layerscope.tui.screens.loading import LoadingScreen


class DiffApp(LayerscopeApp):
    """``layerscope diff --tui OLD NEW``: give it a loader, or a diff already made."""

    HELP_KEYS: ClassVar[KeyGroups] = DIFF_KEYS
    HELP_LEGEND: ClassVar[Legend] = DIFF_LEGEND

    def __init__(
        self, loader: DiffLoader | None = None, label: str = "", *, diff: ImageDiff | None = None
    ) -> None:
        if loader is None and diff is None:
            raise ValueError("DiffApp needs a loader or a diff")
        super().__init__(label or (f"{diff.old.ref} → {diff.new.ref}" if diff else ""))
        self.loader = loader
        self.diff = diff

    def on_mount(self) -> None:
        if self.diff is not None:
            self.show_main(DiffScreen(self.diff))
        else:
            self.push_screen(LoadingScreen(self.ref_label))
            self._load()

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        assert self.loader is not None
        try:
            diff = self.loader(MessageProgress(self))
        except Exception as exc:  # shown on the error screen, never as a traceback
            self.post_message(failure(exc))
        else:
            self.post_message(DiffReady(diff))

    @on(DiffReady)
    def handle_ready(self, event: DiffReady) -> None:
        self.diff = event.diff
        self.show_main(DiffScreen(event.diff))
