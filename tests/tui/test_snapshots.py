"""Snapshot tests: every pane and screen at 80x24 and 160x50 (pytest-textual-snapshot).

Regenerate after an intended change with ``pytest tests/tui --snapshot-update`` and review the
SVGs under tests/tui/__snapshots__.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Static

import layerscope.tui.app as app_module
from layerscope.analysis import Analysis
from layerscope.analysis.cache import CacheHistory, cache_history
from layerscope.analysis.diff import ImageDiff
from layerscope.store.history import build_record
from layerscope.tui.app import InspectApp
from layerscope.tui.diff_app import DiffApp
from layerscope.tui.messages import LoadProgress
from layerscope.tui.screens.error import ErrorScreen
from layerscope.tui.screens.loading import LoadingScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
SnapCompare = Callable[..., bool]


@pytest.fixture(scope="module")
def stable(small: Analysis) -> Analysis:
    """The small image under a fixed name (its real path is a temporary directory)."""
    image = dataclasses.replace(small.image, ref="small.tar")
    return dataclasses.replace(small, image=image)


def _app(analysis: Analysis) -> InspectApp:
    return InspectApp(analysis=analysis, background=False)


async def _steady_cursor(pilot: Pilot[Any]) -> None:
    """Stop the filter box's cursor from blinking: it toggles every 0.5 s, so on a loaded
    machine the screenshot could catch it off and differ from the snapshot."""
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "keys",
    [
        pytest.param((), id="layers"),
        pytest.param(("down", "tab"), id="tree"),
        pytest.param(("down", "ctrl+a", "tab", "ctrl+b"), id="tree-aggregated-attrs"),
        pytest.param(("w",), id="waste"),
        pytest.param(("ctrl+f", *"*.so"), id="filter"),
        pytest.param(("question_mark",), id="help"),
    ],
)
def test_inspect_panes(
    snap_compare: SnapCompare, stable: Analysis, keys: tuple[str, ...], size: tuple[int, int]
) -> None:
    assert snap_compare(
        _app(stable), press=list(keys), run_before=_steady_cursor, terminal_size=size
    )


class _Fixed(App[None]):
    """Shows one screen of the inspect app, for the loading and error snapshots."""

    CSS_PATH = Path(app_module.__file__).parent / "styles" / "app.tcss"

    def __init__(self, screen_factory: Callable[[], Any]) -> None:
        super().__init__()
        self._factory = screen_factory

    def compose(self) -> ComposeResult:
        yield Static("")

    def on_mount(self) -> None:
        self.push_screen(self._factory())


def _set_progress(pilot: Pilot[None]) -> Awaitable[None]:
    async def run() -> None:
        screen = pilot.app.screen
        assert isinstance(screen, LoadingScreen)
        screen.show_progress(LoadProgress("Reading layer 2 of 8", 30_000_000, 120_000_000))
        await pilot.pause()

    return run()


@pytest.mark.parametrize("size", SIZES)
def test_loading_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = _Fixed(lambda: LoadingScreen("big-image.tar"))
    assert snap_compare(app, run_before=_set_progress, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_error_screen(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    message = "missing.tar: no such file or directory"
    app = _Fixed(lambda: ErrorScreen("missing.tar", message))
    assert snap_compare(app, terminal_size=size)


# -- diff screen, History screen, suggestions pane -----------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "keys",
    [
        pytest.param((), id="whole-image"),
        pytest.param(("down", "down", "tab", "tab", "down"), id="pair-tree"),
        pytest.param(("question_mark",), id="help"),
    ],
)
def test_diff_screen(
    snap_compare: SnapCompare, small_diff: ImageDiff, keys: tuple[str, ...], size: tuple[int, int]
) -> None:
    assert snap_compare(DiffApp(diff=small_diff), press=list(keys), terminal_size=size)


def _history(small_diff: ImageDiff) -> CacheHistory:
    records = [build_record(small_diff.old, ref="a"), build_record(small_diff.new, ref="b")]
    return cache_history(records)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("recorded", [True, False], ids=["two-builds", "none"])
def test_history_screen(
    snap_compare: SnapCompare,
    stable: Analysis,
    small_diff: ImageDiff,
    recorded: bool,
    size: tuple[int, int],
) -> None:
    history = _history(small_diff) if recorded else None
    image = dataclasses.replace(stable.image, image_id=small_diff.new.image_id)
    analysis = dataclasses.replace(stable, image=image)
    app = InspectApp(analysis=analysis, history_loader=lambda _image: history, background=False)

    async def wait(pilot: Pilot[int]) -> None:
        await pilot.press("H")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, run_before=wait, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_suggestions_pane(
    snap_compare: SnapCompare, stable: Analysis, size: tuple[int, int]
) -> None:
    from .test_screens_new import hand_words, report

    app = InspectApp(
        analysis=stable, suggestions=report(), background=False, suggestion_words=hand_words
    )
    assert snap_compare(app, press=["s", "down"], terminal_size=size)
