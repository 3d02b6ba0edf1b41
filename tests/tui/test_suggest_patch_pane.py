"""Pilot tests of the suggestions pane with a Dockerfile: each suggestion's evidence, its hunk
of the patch and why it is or is not in the combined patch; w writes the combined patch next
to the Dockerfile, asking before it overwrites."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from layerscope.analysis import Analysis
from layerscope.analysis.suggest import SuggestionReport, suggest
from layerscope.commands.suggest import patch_writer
from layerscope.dockerfile import parse_dockerfile
from layerscope.tui.app import InspectApp
from layerscope.tui.screens.confirm import ConfirmScreen
from layerscope.tui.widgets.suggestions import SuggestionList

from .conftest import DEMO
from .helpers import run_async, screen_text

DOCKERFILE = (DEMO.parent / "Dockerfile").read_text()


def _report(demo: Analysis) -> SuggestionReport:
    report = suggest(demo, dockerfile=parse_dockerfile(DOCKERFILE))
    first = report.suggestions[0]
    # the data hook suggest --prove fills in: a measured figure beside the estimate
    measured = replace(first, measured_saving_bytes=first.estimated_saving_bytes - 1000)
    return replace(report, suggestions=(measured, *report.suggestions[1:]))


async def _select(pilot: object, app: InspectApp, wanted: str) -> None:
    pane = app.screen.query_one(SuggestionList)
    for _ in range(len(pane.items)):
        current = pane.current()
        if current is not None and current.id == wanted:
            return
        await pilot.press("down")  # type: ignore[attr-defined]
    raise AssertionError(f"{wanted} not in the pane")


@run_async
async def test_details_show_hunk_status_and_measured(demo: Analysis, tmp_path: Path) -> None:
    report = _report(demo)
    applied, left = report.applied[0], report.left_out[0]
    app = InspectApp(analysis=demo, suggestions=report, background=False)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.press("s")
        assert isinstance(app.focused, SuggestionList)
        await _select(pilot, app, applied)
        text = screen_text(app)
        assert "in the combined patch" in text
        assert "+++ b/Dockerfile" in text  # its hunk
        assert "Measured" in text and "saved by a real build" in text
        await _select(pilot, app, left.id)
        text = screen_text(app)
        assert "left out:" in text and "in the combined patch" not in text


@run_async
async def test_w_writes_the_patch_and_asks_before_overwriting(
    demo: Analysis, tmp_path: Path
) -> None:
    report = _report(demo)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    target = tmp_path / "Dockerfile.layerscope.patch"
    app = InspectApp(
        analysis=demo,
        suggestions=report,
        patch_writer=patch_writer(str(tmp_path / "Dockerfile")),
        background=False,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        pane = app.focused
        assert isinstance(pane, SuggestionList)
        assert "p: write patch" in str(pane.border_subtitle)  # the pane names the key
        await pilot.press("p")
        await pilot.pause()
        assert report.patch is not None
        assert target.read_text() == report.patch
        target.write_text("mine\n")
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == f"{target} exists: overwrite it?"
        await pilot.press("n")
        await pilot.pause()
        assert target.read_text() == "mine\n"  # kept
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert target.read_text() == report.patch


@run_async
async def test_no_dockerfile_no_write_key(demo: Analysis) -> None:
    report = suggest(demo)
    app = InspectApp(analysis=demo, suggestions=report, background=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        assert isinstance(app.focused, SuggestionList)
        text = screen_text(app)
        assert "Go to layer" in text and "Write patch" not in text and "p: write" not in text
