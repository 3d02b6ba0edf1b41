"""The diff screen's pure state: pair rows and the change trees, worked out by hand from
tests/tui/conftest.py (small_spec -> small_v2_spec)."""

from __future__ import annotations

from layerscope.analysis import ModifyDetail
from layerscope.analysis.diff import FileChangeKind, ImageDiff
from layerscope.tui.diffmodel import WHOLE_IMAGE, DiffTreeModel, pair_rows
from layerscope.tui.viewmodel import ChangeState, SortOrder


def test_pair_rows_whole_image_then_shared_once_then_pairs(small_diff: ImageDiff) -> None:
    rows = pair_rows(small_diff)
    assert [(r.key, r.label, r.status) for r in rows] == [
        (WHOLE_IMAGE, "all", "image"),
        (1, "0-1", "shared"),  # layers 0 and 1 are the same tars: shown once
        (3, "2→2", "changed"),  # the same COPY, other files
        (4, "-→3", "added"),
    ]
    # old size 100+5000+3000+2000+700 + 100+9000+3500 + 10 = 23410;
    # new: the same first two layers + (25+40) + (100+300) = 23865: +455
    assert rows[0].size_delta_bytes == 455
    assert (rows[0].added, rows[0].modified, rows[0].removed) == (2, 2, 0)
    assert rows[1].shared_count == 2 and rows[1].shared_bytes == 10800 + 12600
    assert rows[2].size_delta_bytes == 65 - 10 and (rows[2].added, rows[2].modified) == (1, 1)
    assert rows[3].size_delta_bytes == 400 and rows[3].added == 2


def test_whole_image_tree_by_change_size(small_diff: ImageDiff) -> None:
    model = DiffTreeModel(small_diff)
    rows = model.rows(0, 100)
    # |delta| rolled up: /usr 300, /opt 40 + 15 = 55, /etc 0 (a.conf: only its mtime changed)
    assert [r.path for r in rows] == [
        "/usr", "/usr/bin", "/usr/bin/extra",
        "/opt", "/opt/new.txt", "/opt/small.txt",
        "/etc", "/etc/a.conf",
    ]  # fmt: skip
    by_path = {r.path: r for r in rows}
    assert by_path["/opt"].delta_bytes == 55
    assert by_path["/opt/small.txt"].delta_bytes == 15
    assert by_path["/opt/small.txt"].detail is ModifyDetail.CONTENT
    assert by_path["/usr/bin/extra"].state is ChangeState.ADDED
    assert by_path["/etc/a.conf"].detail is ModifyDetail.IDENTICAL  # timestamp only: "="
    change = model.change_at("/etc/a.conf")
    assert change is not None and change.kind is FileChangeKind.TIMESTAMP
    assert change.pair_index == 3  # the new layer 3 rewrote it
    assert model.change_at("/etc") is None  # a directory on the way


def test_pair_selection_sort_filter_and_hide(small_diff: ImageDiff) -> None:
    model = DiffTreeModel(small_diff)
    model.select_layer(3)  # pair 2 (2→2): what the two COPY tars hold
    assert [r.path for r in model.rows(0, 10)] == ["/opt", "/opt/new.txt", "/opt/small.txt"]
    model.select_layer(1)  # the shared layers: nothing differs
    assert model.row_count == 0
    model.select_layer(4)  # the added layer: both its files are added
    assert {r.path: r.state for r in model.rows(0, 10) if not r.is_dir} == {
        "/usr/bin/extra": ChangeState.ADDED,
        "/etc/a.conf": ChangeState.ADDED,
    }
    model.select_layer(WHOLE_IMAGE)
    model.toggle_sort()
    assert model.sort is SortOrder.NAME
    assert [r.path for r in model.rows(0, 1)] == ["/etc"]
    model.set_filter("*.txt")
    assert [r.path for r in model.rows(0, 10) if not r.is_dir] == ["/opt/new.txt", "/opt/small.txt"]
    model.set_filter("")
    model.toggle_hidden(ChangeState.ADDED)
    assert [r.path for r in model.rows(0, 10) if not r.is_dir] == ["/etc/a.conf", "/opt/small.txt"]
    assert model.largest_file() == "/opt/small.txt"
