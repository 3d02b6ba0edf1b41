"""The path filter box shared by the screens that show a file tree (inspect and diff)."""

from __future__ import annotations

from typing import Protocol

from textual import on
from textual.screen import Screen
from textual.widgets import Input

from layerscope.tui.widgets.filetree import FileTree


class _Filterable(Protocol):
    def set_filter(self, text: str) -> None: ...


class FilteredTreeScreen(Screen[None]):
    """A screen with a ``#filter`` input over a FileTree; subclasses give ``model`` (with
    ``set_filter``) and ``_caption()``."""

    model: _Filterable

    def _caption(self) -> None:
        """Redraw the tree's title and subtitle (sort, filter, row count)."""

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
