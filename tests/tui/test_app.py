"""Pilot tests: every key binding, checked against what the screen shows."""

from __future__ import annotations

from layerscope.analysis import Analysis
from layerscope.errors import LayerscopeError
from layerscope.model import Image, Progress
from layerscope.tui.app import InspectApp
from layerscope.tui.screens.error import ErrorScreen
from layerscope.tui.screens.help import HelpScreen
from layerscope.tui.screens.inspect import InspectScreen
from layerscope.tui.viewmodel import FileTreeModel
from layerscope.tui.widgets.filetree import FileTree
from layerscope.tui.widgets.layers import LayerList
from layerscope.tui.widgets.waste import WasteTable

from .helpers import run_async, screen_text

SIZE = (80, 24)


def tree_of(app: InspectApp) -> FileTree:
    return app.screen.query_one(FileTree)


def model_of(app: InspectApp) -> FileTreeModel:
    model = tree_of(app).model
    assert model is not None
    return model


def cursor_path(app: InspectApp) -> str | None:
    row = model_of(app).cursor_row
    return row.path if row else None


@run_async
async def test_opens_on_layer_zero_with_layers_focused(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, InspectScreen)
        assert isinstance(app.focused, LayerList)
        text = screen_text(app)
        assert "Files · layer 0 · layer only" in text
        assert "Reclaimable (" in text
        assert "B0" in text  # the base layer is marked


@run_async
async def test_tab_cycles_panes(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seen = []
        for key in ("tab", "tab", "shift+tab", "w", "tab"):
            await pilot.press(key)
            seen.append(type(app.focused).__name__)
        # tab toggles Layers <-> Files as in dive; Reclaimable has its own key (issue 12)
        assert seen == ["FileTree", "LayerList", "FileTree", "WasteTable", "FileTree"]


@run_async
async def test_layer_keys_and_aggregation(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down")
        assert "Files · layer 1 · layer only" in screen_text(app)
        assert "./update.sh" in screen_text(app)  # the layer details show its command
        await pilot.press("j", "k")
        assert "Files · layer 1" in screen_text(app)
        await pilot.press("ctrl+a")
        assert "Files · layer 1 · aggregated" in screen_text(app)
        assert model_of(app).row_count == 13
        await pilot.press("ctrl+l")
        assert "Files · layer 1 · layer only" in screen_text(app)
        assert model_of(app).row_count == 10


@run_async
async def test_tree_cursor_and_collapse_keys(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab")
        assert cursor_path(app) == "/usr"
        await pilot.press("down", "j")
        assert cursor_path(app) == "/usr/bin/tool"
        await pilot.press("up", "k")
        assert cursor_path(app) == "/usr"
        await pilot.press("space")
        assert "▸ usr/" in screen_text(app)
        assert model_of(app).row_count == 6
        await pilot.press("right")
        assert "▾ usr/" in screen_text(app)
        await pilot.press("left")
        assert model_of(app).row_count == 6
        await pilot.press("l", "down", "h")  # expand, go to /usr/bin, collapse it
        assert "▸ bin/" in screen_text(app)
        await pilot.press("h")  # on a collapsed directory: go to the parent
        assert cursor_path(app) == "/usr"
        await pilot.press("c")
        assert model_of(app).row_count == 3
        await pilot.press("ctrl+space")
        assert model_of(app).row_count == 11
        await pilot.press("end")
        assert cursor_path(app) == "/etc/a.conf"
        await pilot.press("home")
        assert cursor_path(app) == "/usr"
        await pilot.press("pagedown", "d")
        assert cursor_path(app) == "/etc/a.conf"
        await pilot.press("pageup", "u")
        assert cursor_path(app) == "/usr"


@run_async
async def test_sort_biggest_attributes(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab", "ctrl+o")
        assert "by name" in screen_text(app)
        assert model_of(app).rows(0, 1)[0].path == "/etc"
        await pilot.press("ctrl+o", "b")
        assert cursor_path(app) == "/usr/bin/tool"
        assert "by size" in screen_text(app)
        assert "-rwxr-xr-x" not in screen_text(app)  # narrow: no mode column
        await pilot.press("ctrl+b")
        assert "-rwxr-xr-x" in screen_text(app)


@run_async
async def test_hide_change_kinds_keys(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "tab")  # layer 1, tree
        for key, word in (("ctrl+a", "added"), ("ctrl+n", "modified"), ("ctrl+r", "removed")):
            await pilot.press(key)
            assert word in screen_text(app)
        assert model_of(app).row_count == 0
        await pilot.press("1", "2", "3")
        assert model_of(app).row_count == 10
        await pilot.press("ctrl+u")
        assert "hiding unchanged" in screen_text(app)
        await pilot.press("4")
        assert "hiding" not in screen_text(app)


@run_async
async def test_filter_keys(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+f")
        assert app.focused is not None and app.focused.id == "filter"
        await pilot.press(*"*.so")
        assert "glob *.so" in screen_text(app)
        assert "libx.so" in screen_text(app) and "tool" not in screen_text(app)
        await pilot.press("enter")
        assert isinstance(app.focused, FileTree)
        await pilot.press("/")
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"junk$")
        assert "regex junk$" in screen_text(app)
        await pilot.press("escape")
        assert "regex" not in screen_text(app)
        assert model_of(app).row_count == 11


@run_async
async def test_waste_jump(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("w")
        assert isinstance(app.focused, WasteTable)
        # Items largest first: libx.so 3000 B (overwritten), junk 700 B (deleted),
        # a.conf 100 B (metadata rewrite); all written by layer 0, hidden by layer 1.
        await pilot.press("down", "enter")
        assert isinstance(app.focused, FileTree)
        assert cursor_path(app) == "/var/tmp/junk"
        assert "Files · layer 0" in screen_text(app)
        assert app.screen.query_one(LayerList).cursor_row == 0


@run_async
async def test_mouse_click_selects_then_toggles(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        tree = tree_of(app)
        await pilot.click(FileTree, offset=(5, 1))  # second row: /usr/bin (border is row 0)
        assert cursor_path(app) == "/usr/bin"
        await pilot.click(FileTree, offset=(5, 1))
        assert "▸ bin/" in screen_text(app)
        assert tree.model is not None and tree.model.row_count == 10


@run_async
async def test_help_and_quit(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("?")
        assert isinstance(app.screen, HelpScreen)
        assert "ctrl+f" in screen_text(app) and "tab / shift+tab" in screen_text(app)
        assert "history: size and cache hit ratio" in screen_text(app)  # H is listed
        await pilot.press("end")  # the help scrolls at 80x24
        await pilot.wait_for_scheduled_animations()  # the scroll animates: a loaded machine lags
        await pilot.pause()
        assert "Suggestions" in screen_text(app) and "metadata only" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, InspectScreen)
        await pilot.press("q")
    assert app.return_code == 0


@run_async
async def test_ctrl_c_quits(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
    assert app.return_code == 0


@run_async
async def test_loading_then_inspect(small: Analysis) -> None:
    def loader(progress: Progress) -> Image:
        progress.stage("Reading layer 1 of 3", 100)
        progress.advance(100)
        return small.image

    app = InspectApp(loader, "small.tar")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, InspectScreen)


@run_async
async def test_error_screen_and_exit_code() -> None:
    def loader(progress: Progress) -> Image:
        raise LayerscopeError("missing.tar: no such file")

    app = InspectApp(loader, "missing.tar")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        text = screen_text(app)
        assert "Could not open missing.tar" in text and "no such file" in text
        assert "Traceback" not in text
        await pilot.press("q")
    assert app.return_code == LayerscopeError("x").exit_code


_WINDOW_BUTTONS = {"#ff5f57", "#febc2e", "#28c840"}
"""The screenshot's decorative title-bar buttons, not part of the app."""


def _colours(svg: str) -> set[str]:
    import re

    found = {c.lower() for c in re.findall(r"(?:fill|color)[=:]\s*\"?(#[0-9a-fA-F]{6})", svg)}
    return found - _WINDOW_BUTTONS


def _is_grey(colour: str) -> bool:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return max(r, g, b) - min(r, g, b) <= 8


@run_async
async def test_no_color_draws_in_greys_and_keeps_the_change_marks(small: Analysis) -> None:
    import os

    os.environ["NO_COLOR"] = "1"
    try:
        app = InspectApp(analysis=small)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("tab")  # the file tree
            await pilot.pause()
            svg = app.export_screenshot()
            text = screen_text(app)
    finally:
        del os.environ["NO_COLOR"]
    colours = _colours(svg)
    assert colours and all(_is_grey(c) for c in colours), sorted(colours)
    assert "+ " in text  # added files stay marked when colour is gone
    plain = InspectApp(analysis=small)
    async with plain.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not all(_is_grey(c) for c in _colours(plain.export_screenshot()))


@run_async
async def test_first_screen_shows_efficiency_and_waste_at_80x24(small: Analysis) -> None:
    """dive users look for efficiency and wasted bytes first: on the first line, even at 80x24."""
    app = InspectApp(analysis=small)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = screen_text(app).splitlines()[0]
        dive = small.dive
        assert f"efficiency {dive.efficiency_ratio * 100:.1f}%" in first, first
        assert "reclaimable" in first and "dive wasted" in first, first


@run_async
async def test_at_80x24_the_instruction_gets_the_room(small: Analysis) -> None:
    """At 80 columns the Layers pane showed 11 characters of each instruction."""
    app = InspectApp(analysis=small)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(LayerList)
        widths = {str(c.key.value): c.get_render_width(table) for c in table.columns.values()}
        assert "stored" not in widths  # in the layer details below instead
        assert widths["instruction"] >= 20, widths


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        self.calls.append(("stage", (text, total_bytes)))

    def advance(self, done_bytes: int) -> None:
        self.calls.append(("advance", done_bytes))


def test_early_load_starts_at_once_and_hands_over_its_progress(small: Analysis) -> None:
    """run_inspect's EarlyLoad: the loader runs before any display asks; the stage under way
    is replayed to the display that attaches, later progress forwarded to it."""
    import threading

    from layerscope.tui import EarlyLoad

    started, go_on = threading.Event(), threading.Event()
    analysed: list[Image] = []

    def loader(progress: Progress) -> Image:
        progress.stage("Reading layer 1 of 2", 300)
        progress.advance(100)
        progress.advance(50)
        started.set()
        assert go_on.wait(10)
        progress.stage("Reading layer 2 of 2", 10)
        return small.image

    def analyzer(image: Image) -> Analysis:
        analysed.append(image)
        return small

    early = EarlyLoad(loader, analyzer)
    assert started.wait(10)  # running, though nobody asked for the image yet
    shown = _Recorder()
    go_on.set()
    assert early.image(shown) is small.image
    assert early.analysis(small.image) is small
    assert analysed == [small.image]
    assert shown.calls == [
        ("stage", ("Reading layer 1 of 2", 300)),
        ("advance", 150),
        ("stage", ("Reading layer 2 of 2", 10)),
    ]


def test_early_load_raises_its_error_where_the_result_is_asked_for() -> None:
    from layerscope.tui import EarlyLoad

    def loader(progress: Progress) -> Image:
        raise LayerscopeError("missing.tar: no such file")

    early = EarlyLoad(loader, None)
    for ask in (lambda: early.image(_Recorder()), lambda: early.analysis(None)):  # type: ignore[arg-type]
        try:
            ask()
        except LayerscopeError as exc:
            assert "no such file" in str(exc)
        else:
            raise AssertionError("no error")


@run_async
async def test_early_loaded_image_opens_the_inspect_screen(small: Analysis) -> None:
    from layerscope.tui import EarlyLoad

    early = EarlyLoad(lambda progress: small.image, lambda image: small)
    app = InspectApp(early.image, "small.tar", analyzer=early.analysis)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(500):
            if isinstance(app.screen, InspectScreen):
                break
            await pilot.pause()
        assert isinstance(app.screen, InspectScreen)
        assert app.analysis is small
