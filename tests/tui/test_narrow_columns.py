"""At 80x24 the columns that carry meaning get the room first (issue 12, item 10): the diff
pair list shows its +/~/- counts whole and the instruction beside them, the Reclaimable pane
keeps each file's name whole, and the small columns are as wide as their values."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.analysis import Analysis
from layerscope.analysis.diff import ImageDiff, diff_images
from layerscope.sources import load_image
from layerscope.testing import Dir, File, ImageSpec, LayerSpec, Whiteout, write_image
from layerscope.tui.app import InspectApp
from layerscope.tui.diff_app import DiffApp
from layerscope.tui.formatting import elide_path
from layerscope.tui.widgets.pairs import PairList
from layerscope.tui.widgets.waste import WasteTable

from .helpers import run_async, screen_text

NARROW = (80, 24)
WIDE = (200, 50)

# the new image's app layer: ADDED files that are new, MODIFIED rewritten, REMOVED left out (and
# deleted again by a third layer)
ADDED, MODIFIED, REMOVED = 6, 398, 2
RUN = "pip install --no-cache-dir -r requirements.txt && python -m compileall /srv/app"


def _spec(new: bool) -> ImageSpec:
    base: list = [Dir("/usr"), Dir("/usr/lib")]
    base += [File(f"/usr/lib/f{i}.so", b"x" * (100 + i)) for i in range(20)]
    kept = MODIFIED + REMOVED
    body = b"new" if new else b"old"
    app: list = [Dir("/srv"), Dir("/srv/app")]
    if new:
        app += [File(f"/srv/app/m{i}.py", body * (10 + i)) for i in range(MODIFIED)]
        app += [File(f"/srv/app/n{i}.py", body * 7) for i in range(ADDED)]
    else:
        app += [File(f"/srv/app/m{i}.py", body * (10 + i)) for i in range(kept)]
    layers = [
        LayerSpec(base, created_by="/bin/sh -c #(nop) ADD file:0123456789abcdef in / "),
        LayerSpec(app, created_by=f"/bin/sh -c {RUN}"),
    ]
    if new:  # the files the new build no longer has
        gone = [Dir("/srv"), Dir("/srv/app")]
        gone += [Whiteout(f"/srv/app/m{i}.py") for i in range(MODIFIED, kept)]
        layers.append(LayerSpec(gone, created_by="/bin/sh -c rm -f /srv/app/old*"))
    return ImageSpec(layers=layers, repo_tags=[f"example.com/app:{2 if new else 1}"])


@pytest.fixture(scope="module")
def busy_diff(tmp_path_factory: pytest.TempPathFactory) -> ImageDiff:
    where = tmp_path_factory.mktemp("narrow")
    old, new = where / "old.tar", where / "new.tar"
    write_image(_spec(False), old, format="docker-25")
    write_image(_spec(True), new, format="docker-25")
    return diff_images(load_image(str(old)), load_image(str(new)))


def _row_with(text: str, needle: str) -> str:
    rows = [line for line in text.splitlines() if needle in line]
    assert rows, f"no row shows {needle!r}:\n{text}"
    return rows[0]


@run_async
async def test_diff_pairs_show_counts_whole_and_the_instruction_at_80x24(
    busy_diff: ImageDiff,
) -> None:
    # the whole-image row counts every change; the app-layer pair only its own layer's
    whole = f"{ADDED}/{MODIFIED}/{REMOVED}"
    app = DiffApp(diff=busy_diff)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        text = screen_text(app)
        row = _row_with(text, whole)
        assert "whole image" in row
        # the pair of app layers: the old layer's two files the new one lacks count as removed
        assert whole in _row_with(text, "RUN pip inst")  # the instruction beside the counts
        assert "Status" not in text  # its room went to the instruction
        table = app.screen.query_one(PairList)
        assert table.size.width < 56


@run_async
async def test_diff_pairs_keep_the_status_column_when_wide(busy_diff: ImageDiff) -> None:
    app = DiffApp(diff=busy_diff)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Status" in text
        row = _row_with(text, RUN[:40])
        assert "changed" in row and f"{ADDED}/{MODIFIED}/{REMOVED}" in row


@run_async
async def test_reclaimable_paths_get_the_room_at_80x24(demo: Analysis) -> None:
    app = InspectApp(analysis=demo, background=False)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        await pilot.press("w")
        table = app.screen.query_one(WasteTable)
        assert app.focused is table
        room = table.columns[next(k for k in table.columns if k.value == "path")].width
        assert room >= 16  # was 12 (the issue saw about 11)
        text = screen_text(app)
        assert "W→H" not in text  # its room went to the path ...
        first = demo.waste.items[0]
        where = f"written in layer {first.writer_layer_index}, hidden in {first.hider_layer_index}"
        assert where in text  # ... and the highlighted row's layers are in the subtitle
        for item in demo.waste.items[: min(table.row_count, 5)]:
            assert elide_path(item.path, room) in text
        await pilot.press("j")
        second = demo.waste.items[1]
        assert f"written in layer {second.writer_layer_index}, hidden" in screen_text(app)


@pytest.mark.parametrize(
    "path",
    [
        "/usr/lib/python3.11/site-packages/numpy/core/_multiarray_umath.cpython-311.so",
        "/srv/app/static/logo.png",
        "/a",
        "/" + "d" * 60 + "/x",
    ],
)
@pytest.mark.parametrize("width", [2, 8, 12, 20, 40, 100])
def test_elide_path_fits_and_keeps_the_name(path: str, width: int) -> None:
    shown = elide_path(path, width)
    assert len(shown) <= width
    name = path.rsplit("/", 1)[-1]
    if len(path) <= width:
        assert shown == path
    elif len(name) + 4 <= width:  # room for two characters of start, "…" and "/name"
        assert shown.endswith("/" + name) and "…" in shown
        assert path.startswith(shown.split("…")[0])
    else:  # the name alone is too long: its end is kept
        assert shown.startswith("…") and path.endswith(shown[1:])
