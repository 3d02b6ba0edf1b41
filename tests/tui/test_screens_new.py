"""Pilot tests of the diff screen, the History screen (H) and the suggestions pane."""

from __future__ import annotations

import io

from layerscope import cli
from layerscope.analysis import Analysis
from layerscope.analysis.cache import CacheHistory, LayerState, cache_history
from layerscope.analysis.diff import ImageDiff
from layerscope.analysis.suggest import Evidence, Suggestion, SuggestionKind, SuggestionReport
from layerscope.analysis.suggest.facts import CacheKind, CleanupFacts, MergeFacts
from layerscope.model import Progress
from layerscope.render.suggest_words import Words
from layerscope.store.history import build_record
from layerscope.tui.app import InspectApp
from layerscope.tui.diff_app import DiffApp
from layerscope.tui.screens.diff import DiffScreen
from layerscope.tui.screens.help import HelpScreen
from layerscope.tui.screens.history import HistoryScreen
from layerscope.tui.screens.inspect import InspectScreen
from layerscope.tui.viewmodel import FileTreeModel
from layerscope.tui.widgets.filetree import FileTree
from layerscope.tui.widgets.layers import LayerList
from layerscope.tui.widgets.pairs import PairList
from layerscope.tui.widgets.suggestions import SuggestionList

from .helpers import run_async, screen_text, wait_until

SIZE = (80, 24)
WIDE = (200, 50)


HAND_WORDS = {
    "cleanup-1": Words(
        "delete /var/tmp/junk in the layer that writes it",
        "layer 1 deletes /var/tmp/junk, which layer 0 stored: 700 B shipped for nothing.",
    ),
    "merge-1": Words(
        "merge the steps that write /usr/lib/libx.so twice",
        "layer 1 rewrites /usr/lib/libx.so that layer 0 stored.",
    ),
}
"""Fixed words for the hand-made suggestions: the pane's layout is pinned apart from the
words of the rules (those are pinned by the suggest goldens)."""


def hand_words(suggestion: Suggestion) -> Words:
    """The words of a hand-made suggestion of ``report``."""
    return HAND_WORDS[suggestion.id]


def report() -> SuggestionReport:
    """Two hand-made suggestions about the small image (layer 1 deletes /var/tmp/junk that
    layer 0 wrote; /usr/lib/libx.so 3000 B is overwritten); their words are ``hand_words``."""
    junk = Suggestion(
        id="cleanup-1",
        kind=SuggestionKind.SAME_LAYER_CLEANUP,
        facts=CleanupFacts(1, (CacheKind.APT_ARCHIVES,), 1, ()),
        layers=(0, 1),
        instructions=(),
        lines=(),
        evidence=(Evidence("/var/tmp/junk", 700, 0),),
        estimated_saving_bytes=700,
    )
    libx = Suggestion(
        id="merge-1",
        kind=SuggestionKind.MERGE_RUN,
        facts=MergeFacts((0, 1), 0, 1, 1),
        layers=(1,),
        instructions=(),
        lines=(),
        evidence=(Evidence("/usr/lib/libx.so", 3500, 1),),
        estimated_saving_bytes=3000,
    )
    return SuggestionReport((libx, junk), 3700, None, (), ())


def model_of(app: InspectApp | DiffApp) -> FileTreeModel:
    model = app.screen.query_one(FileTree).model
    assert model is not None
    return model


def cursor_path(app: InspectApp | DiffApp) -> str | None:
    row = model_of(app).cursor_row
    return row.path if row else None


# -- diff screen ------------------------------------------------------------------------------


@run_async
async def test_diff_screen_pairs_tree_and_details(small_diff: ImageDiff) -> None:
    app = DiffApp(diff=small_diff)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        assert isinstance(app.focused, PairList)
        text = screen_text(app)
        assert "the images differ · +455 B · small.tar → small-v2.tar" in text
        assert "Changes · whole image" in text and "0-1" in text and "shared" in text
        assert model_of(app).row_count == 8
        await pilot.press("down")  # the shared row: nothing differs
        assert "Changes · shared 0-1: none" in screen_text(app)
        assert model_of(app).row_count == 0
        await pilot.press("j")  # pair 2→2
        assert "Changes · 2→2 changed" in screen_text(app)
        assert model_of(app).row_count == 3
        await pilot.press("G")  # last row: the added layer
        assert "Changes · -→3 added" in screen_text(app)
        await pilot.press("g", "tab", "tab")  # whole image; the info pane, then the tree
        assert isinstance(app.focused, FileTree)
        await pilot.press("down", "down")
        assert cursor_path(app) == "/usr/bin/extra"
        text = screen_text(app)
        assert "added · +300 B" in text and "-→3" in text  # the change pane
        await pilot.press("up", "space")  # collapse /usr/bin
        assert model_of(app).row_count == 7
        await pilot.press("ctrl+o")
        assert "by name" in screen_text(app)
        await pilot.press("b")  # the biggest change
        assert cursor_path(app) == "/usr/bin/extra"
        await pilot.press("ctrl+a")  # hide added
        assert "hiding added" in screen_text(app)


@run_async
async def test_diff_filter_help_and_quit(small_diff: ImageDiff) -> None:
    app = DiffApp(diff=small_diff)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("/", *"*.txt")
        assert "glob *.txt" in screen_text(app)
        assert model_of(app).row_count == 3  # /opt and its two files
        await pilot.press("escape")
        assert model_of(app).row_count == 8
        await pilot.press("?")
        assert isinstance(app.screen, HelpScreen)
        assert "timestamp only" in screen_text(app) or "Layer pairs" in screen_text(app)
        await pilot.press("escape", "q")
    assert app.return_code == 0


@run_async
async def test_diff_loads_in_worker_and_reports_errors(small_diff: ImageDiff) -> None:
    def loader(progress: Progress) -> ImageDiff:
        progress.stage("Reading the old image")
        return small_diff

    app = DiffApp(loader, "old → new")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)

    def broken(progress: Progress) -> ImageDiff:
        from layerscope.errors import NotFoundError

        raise NotFoundError("missing.tar: no such file")

    app = DiffApp(broken, "missing.tar → x")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no such file" in screen_text(app)
        await pilot.press("q")
    assert app.return_code == 2


def test_diff_tui_rejects_machine_outputs(small_diff: ImageDiff) -> None:
    for extra in (["--json"], ["--markdown"], ["--output", "/tmp/x.txt"]):
        err = io.StringIO()
        code = cli.main(
            ["diff", "a.tar", "b.tar", "--tui", *extra], stdout=io.StringIO(), stderr=err
        )
        assert code == 2 and "--tui cannot be combined" in err.getvalue()


# -- history ----------------------------------------------------------------------------------


def two_builds(small_diff: ImageDiff) -> CacheHistory:
    old, new = small_diff.old, small_diff.new
    return cache_history([build_record(old, ref="a"), build_record(new, ref="b")])


@run_async
async def test_history_key_opens_and_closes(small: Analysis, small_diff: ImageDiff) -> None:
    history = two_builds(small_diff)
    calls: list[str] = []

    def loader(image: object) -> CacheHistory:
        calls.append("read")
        return history

    app = InspectApp(analysis=small, history_loader=loader)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        text = screen_text(app)
        assert "history of example.com/small · 2 builds" in text
        assert "Cache hit ratio" in text and "50.0%" in text  # 2 of 4 layers hit
        assert "▶ 1 (" in text  # the image on screen (small:1) is marked
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InspectScreen)
        await pilot.press("H")  # read once, kept
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen) and calls == ["read"]
        assert "2 builds" in screen_text(app)
        await pilot.press("H")
        await pilot.pause()
        assert isinstance(app.screen, InspectScreen)


@run_async
async def test_history_absent_explains_itself(small: Analysis) -> None:
    app = InspectApp(analysis=small, history_loader=lambda image: None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "No builds of this repository are recorded yet" in screen_text(app)
    app = InspectApp(analysis=small)  # no loader at all
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await pilot.pause()
        assert "not available here" in screen_text(app)


# -- suggestions ------------------------------------------------------------------------------


@run_async
async def test_suggestions_pane_from_worker(small: Analysis) -> None:
    app = InspectApp(
        analysis=small, suggester=lambda analysis: report(), suggestion_words=hand_words
    )
    async with app.run_test(size=WIDE) as pilot:
        # started once the screen is drawn, not with it
        await wait_until(pilot, lambda: app.suggested, "the suggester finished")
        assert "Suggestions (2) · 3.7 kB to save" in screen_text(app)
        await pilot.press("s")
        assert isinstance(app.focused, SuggestionList)
        assert "merge-1: merge_run" in screen_text(app)  # the details of the first one
        await pilot.press("down")
        assert "cleanup-1: same_layer_cleanup" in screen_text(app)
        await pilot.press("enter")  # layer 0, the file of its evidence
        assert app.screen.query_one(LayerList).cursor_row == 0
        assert "Files · layer 0" in screen_text(app)
        assert cursor_path(app) == "/var/tmp/junk"
        await pilot.press("up", "enter")
        assert app.screen.query_one(LayerList).cursor_row == 1
        assert cursor_path(app) == "/usr/lib/libx.so"
        await pilot.press("tab")  # leaving the pane hides the suggestion details
        assert "merge-1: merge_run" not in screen_text(app)


@run_async
async def test_no_suggestions_no_pane(small: Analysis) -> None:
    empty = SuggestionReport((), 0, None, (), ())

    def broken(analysis: Analysis) -> SuggestionReport:
        raise RuntimeError("not finished")

    for suggester in (lambda analysis: empty, lambda analysis: None, broken):
        app = InspectApp(analysis=small, suggester=suggester)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda app=app: app.suggested, "the suggester finished")
            assert not app.screen.query(SuggestionList)
            assert "Suggestions" not in screen_text(app)


@run_async
async def test_background_view_makes_first_toggle_cached(small: Analysis) -> None:
    app = InspectApp(analysis=small)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause(InspectScreen.PREFETCH_DELAY + 0.2)
        await app.workers.wait_for_complete()
        model = model_of(app)
        assert (0, True) in model._views  # built in the worker, before any key
        assert (1, False) in model._views  # the next layer too
        await pilot.press("ctrl+a")
        assert model.aggregated and model.row_count == 11


# -- layers pane: cache column ------------------------------------------------------------------


@run_async
async def test_layers_pane_shows_each_layers_cache_state(small: Analysis) -> None:
    """The command hands the TUI a LayerState per layer; the Cache column words them."""
    count = len(small.image.layers)
    states = [LayerState.MISS if n == count - 1 else LayerState.HIT for n in range(count)]
    app = InspectApp(analysis=small, cache_states=lambda image: states, background=False)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(LayerList)
        column = [str(table.get_cell_at((row, 3))) for row in range(count)]
        assert column == ["hit"] * (count - 1) + ["miss"]
