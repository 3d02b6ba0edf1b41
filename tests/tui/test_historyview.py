"""The History screen's pure pieces: bar heights, chart rows, table rows."""

from __future__ import annotations

from layerscope.analysis.cache import cache_history
from layerscope.analysis.diff import ImageDiff
from layerscope.store.history import build_record
from layerscope.tui.historyview import bar_levels, bar_rows, build_rows, explain_empty


def test_bar_levels_ratio_and_size_scales() -> None:
    # ratio, 2 rows = 16 eighths: 0 -> 0, 0.5 -> 8, 1.0 -> 16, None stays None
    assert bar_levels([0.0, 0.5, 1.0, None], 2, 0.0, 1.0, floor=False) == [0, 8, 16, None]
    # sizes from min to max with a floor: min -> 1 eighth, max -> 16, midpoint 1 + round(7.5) = 9
    assert bar_levels([100.0, 150.0, 200.0], 2, 100.0, 200.0, floor=True) == [1, 9, 16]
    # all the same size: full bars
    assert bar_levels([5.0, 5.0], 3, 5.0, 5.0, floor=True) == [24, 24]


def test_bar_rows_top_first_with_gaps() -> None:
    rows = bar_rows([0, 8, 12, 16, None], 2)
    assert rows == [
        "    ▄ █   ",  # top row: 12 - 8 = 4 eighths, 16 - 8 = 8
        "  █ █ █ · ",  # bottom row: 8, 8, 8 eighths; None drawn as a dot
    ]


def test_build_rows_and_explanations(small_diff: ImageDiff) -> None:
    old, new = small_diff.old, small_diff.new
    history = cache_history([build_record(old, ref="a"), build_record(new, ref="b")])
    rows = build_rows(history, {"layer_added": "layer added"}, current_image_id=new.image_id)
    assert [(r.position, r.layers, r.hits, r.current) for r in rows] == [
        (0, 3, "-", False),
        (1, 4, "2/4", True),  # layers 0 and 1 hit, 2 and 3 miss
    ]
    assert rows[1].hit_ratio == 0.5
    assert rows[0].size_bytes == 23410 and rows[1].size_bytes == 23865
    assert rows[1].first_miss.endswith("@2")
    assert explain_empty(history, True) is None
    single = cache_history([build_record(old, ref="a")])
    assert "Only this build" in (explain_empty(single, True) or "")
    assert "No builds" in (explain_empty(None, True) or "")
    assert "not available" in (explain_empty(None, False) or "")
