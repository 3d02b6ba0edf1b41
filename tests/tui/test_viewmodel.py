"""The tree viewmodel without Textual: rows, sizes, sort, collapse, filters, aggregation.

Expected rows are worked out by hand from tests/tui/conftest.py:small_spec (sizes in bytes).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from layerscope.analysis import Analysis, ModifyDetail
from layerscope.tui.viewmodel import (
    ChangeState,
    FileTreeModel,
    PathFilter,
    SortOrder,
    TreeView,
    full_counts,
)


def paths(model: FileTreeModel) -> list[str]:
    return [row.path for row in model.rows(0, 1000)]


def test_layer_only_rows_sizes_and_states(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=1)
    # Layer 1 changes: /opt + big.bin 9000 (added), libx.so 3500 (modified), a.conf 100
    # (metadata only), /var/tmp/junk (removed: rolls up to 0 in its parents).
    # Top level by size: /opt 9000 > /usr 3500 > /etc 100 > /var 0.
    assert paths(model) == [
        "/opt", "/opt/big.bin",
        "/usr", "/usr/lib", "/usr/lib/libx.so",
        "/etc", "/etc/a.conf",
        "/var", "/var/tmp", "/var/tmp/junk",
    ]  # fmt: skip
    rows = {row.path: row for row in model.rows(0, 100)}
    assert rows["/opt"].size_bytes == 9000
    assert rows["/usr"].size_bytes == 3500
    assert rows["/var"].size_bytes == 0
    assert rows["/var/tmp/junk"].size_bytes == 700
    assert rows["/opt/big.bin"].state is ChangeState.ADDED
    assert rows["/usr/lib/libx.so"].state is ChangeState.MODIFIED
    assert rows["/usr/lib/libx.so"].detail is ModifyDetail.CONTENT
    assert rows["/etc/a.conf"].detail is ModifyDetail.METADATA
    assert rows["/var/tmp/junk"].state is ChangeState.REMOVED
    # /usr/lib is rewritten by layer 1 with the same attributes.
    assert rows["/usr/lib"].depth == 2
    assert rows["/usr/lib"].entry is not None and rows["/usr/lib"].entry.mode == 0o755
    assert rows["/opt/big.bin"].depth == 2 and rows["/opt/big.bin"].last


def test_aggregated_view_is_the_filesystem_plus_this_layers_removals(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=1, aggregated=True)
    # /usr = tool 5000 + libx 3500 + liby 2000 = 10500 > /opt 9000 > /etc 100 > /var 0;
    # inside /usr: lib = 3500 + 2000 = 5500 > bin 5000.
    assert paths(model) == [
        "/usr", "/usr/lib", "/usr/lib/libx.so", "/usr/lib/liby.so", "/usr/bin", "/usr/bin/tool",
        "/opt", "/opt/big.bin",
        "/etc", "/etc/a.conf",
        "/var", "/var/tmp", "/var/tmp/junk",
    ]  # fmt: skip
    rows = {row.path: row for row in model.rows(0, 100)}
    assert rows["/usr"].size_bytes == 10500
    assert rows["/usr/bin/tool"].state is ChangeState.UNCHANGED
    assert rows["/usr/lib/libx.so"].size_bytes == 3500


def test_toggle_aggregation_keeps_the_cursor_on_the_same_path(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=1)
    assert model.go_to("/usr/lib/libx.so")
    assert model.cursor == 4
    model.set_aggregated(True)
    assert model.cursor_row is not None and model.cursor_row.path == "/usr/lib/libx.so"
    assert model.cursor == 2  # /usr, /usr/lib (5500 B, before bin's 5000), libx.so
    model.select_layer(2)  # unchanged in layer 2, still in its aggregated view
    assert model.cursor_row is not None and model.cursor_row.path == "/usr/lib/libx.so"


def test_sort_by_name(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=1)
    model.toggle_sort()
    assert model.sort is SortOrder.NAME
    assert [row.path for row in model.rows(0, 100) if row.depth == 1] == [
        "/etc", "/opt", "/usr", "/var",
    ]  # fmt: skip


def test_collapse_one_and_all(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=0)
    # Layer 0: /usr (bin, tool, lib, libx, liby), /var (tmp, junk), /etc (a.conf): 11 rows.
    assert model.row_count == 11
    model.toggle_collapse(0)  # /usr: hides its 5 descendants
    assert model.row_count == 6
    assert paths(model)[:2] == ["/usr", "/var"]
    assert model.rows(0, 1)[0].expanded is False
    model.toggle_collapse(0)
    assert model.row_count == 11
    model.toggle_all()
    assert paths(model) == ["/usr", "/var", "/etc"]
    model.toggle_all()
    assert model.row_count == 11


def test_go_to_expands_collapsed_ancestors(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=0)
    model.set_all_collapsed(True)
    assert model.go_to("/usr/lib/liby.so")
    # /usr, bin (collapsed), lib, libx.so, liby.so -> index 4
    assert model.cursor == 4
    assert model.cursor_row is not None and model.cursor_row.path == "/usr/lib/liby.so"


def test_glob_and_regex_filters(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=0)
    model.set_filter("*.so")
    assert model.filter is not None and model.filter.is_glob
    assert paths(model) == ["/usr", "/usr/lib", "/usr/lib/libx.so", "/usr/lib/liby.so"]
    model.set_filter("conf$|junk")
    assert model.filter is not None and not model.filter.is_glob
    assert paths(model) == ["/var", "/var/tmp", "/var/tmp/junk", "/etc", "/etc/a.conf"]
    with pytest.raises(ValueError):
        model.set_filter("(unclosed")
    model.set_filter("")
    assert model.row_count == 11


def test_path_filter_rules() -> None:
    glob = PathFilter.parse("/usr/*/lib*")
    assert glob is not None and glob.is_glob and glob.matches("/usr/lib/libx.so")
    base = PathFilter.parse("lib?.so")
    assert base is not None and base.matches("/a/b/libx.so") and not base.matches("/libxx.so")
    regex = PathFilter.parse(r"\.so$")
    assert regex is not None and not regex.is_glob and regex.matches("/x.so")
    assert PathFilter.parse("  ") is None


def test_hide_change_kinds(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=1)
    model.toggle_hidden(ChangeState.REMOVED)
    assert "/var" not in paths(model)  # /var holds only the removed junk
    model.toggle_hidden(ChangeState.ADDED)
    assert paths(model) == ["/usr", "/usr/lib", "/usr/lib/libx.so", "/etc", "/etc/a.conf"]
    model.reset_filters()
    assert model.row_count == 10


def test_largest_file_respects_the_view(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=0)
    assert model.largest_file() == "/usr/bin/tool"  # 5000 B
    model.select_layer(1)
    assert model.largest_file() == "/opt/big.bin"  # 9000 B
    model.set_filter("*.so")
    assert model.largest_file() == "/usr/lib/libx.so"


def test_rows_window_and_guides(small: Analysis) -> None:
    model = FileTreeModel(small, layer_index=0)
    window = model.rows(3, 3)
    assert [row.path for row in window] == ["/usr/lib", "/usr/lib/libx.so", "/usr/lib/liby.so"]
    # /usr has siblings below it (/var, /etc): its guide is drawn for deeper rows.
    assert window[1].guides == (True, False)
    assert window[2].last
    assert model.rows(11, 5) == []
    model.move_cursor(100)
    assert model.cursor == 10
    model.move_cursor(-100)
    assert model.cursor == 0


def test_viewmodel_imports_no_textual_or_rich() -> None:
    code = (
        "import sys, layerscope.tui.viewmodel\n"
        "bad = [m for m in ('textual', 'rich') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _tricky_image() -> Analysis:
    """Every way a layer can change a path: implied parents made explicit, whiteouts of a file
    and of a directory, an opaque directory, a directory replaced by a file (its children
    removed), a path whited out and written again, content, metadata and identical rewrites."""
    from layerscope.analysis import analyze
    from layerscope.testing.memory import (
        dir_entry,
        file_entry,
        memory_image,
        opaque_entry,
        whiteout_entry,
    )

    base = [
        file_entry("/a/deep/x.bin", 40),  # /a and /a/deep implied
        file_entry("/a/deep/y.bin", 7),
        dir_entry("/b"),
        file_entry("/b/one", 5),
        file_entry("/b/two", 6),
        dir_entry("/c"),
        file_entry("/c/sub/z", 9),
        file_entry("/d/keep", 3),
        file_entry("/e", 11),
    ]
    second = [
        dir_entry("/a"),  # explicit now: written over an implied directory
        file_entry("/a/deep/x.bin", 41),  # content
        file_entry("/a/deep/y.bin", 7, mode=0o600),  # metadata only
        file_entry("/d/keep", 3),  # identical
        whiteout_entry("/b/one"),
        whiteout_entry("/c/sub"),
        opaque_entry("/d"),
        file_entry("/d/new", 2),
        whiteout_entry("/e"),
        file_entry("/e", 12),  # whited out and written again
        file_entry("/c", 4),  # a directory replaced by a file
    ]
    third = [whiteout_entry("/a/deep"), file_entry("/f/g", 1)]
    return analyze(memory_image(base, second, third))


def _expected_nodes(
    analysis: Analysis, layer: int, aggregated: bool
) -> dict[str, tuple[object, ...]]:
    """What a view must list, from the analysis' own sorted change list (the definition)."""
    expected: dict[str, tuple[object, ...]] = {}
    if aggregated:
        for path, placed in analysis.filesystem.at(layer).items():
            expected[path] = (placed.entry, ChangeState.UNCHANGED, None)
    for change in analysis.changes[layer].changes:
        side = change.after if change.after is not None else change.before
        assert side is not None
        state = ChangeState(change.kind.value)
        expected[change.path] = (side.entry, state, change.detail)
    return expected


@pytest.mark.parametrize("aggregated", [False, True], ids=["layer-only", "aggregated"])
def test_views_list_exactly_the_analysis_changes(aggregated: bool, small: Analysis) -> None:
    """The views read what applying a layer did, not the FileChange list; both must agree."""
    for analysis in (_tricky_image(), small):
        for layer in range(len(analysis.image.layers)):
            view = TreeView(analysis, layer, aggregated)
            got = {
                path: (node.entry, node.state, node.detail)
                for path, node in view.nodes.items()
                if node.entry is not None  # context directories the view made up
            }
            assert got == _expected_nodes(analysis, layer, aggregated), (layer, aggregated)


def test_full_counts_are_the_paths_below_each_directory(small: Analysis) -> None:
    for analysis in (_tricky_image(), small):
        for layer in range(len(analysis.image.layers)):
            for aggregated in (False, True):
                view = TreeView(analysis, layer, aggregated)
                counts = full_counts(view)
                for node in view.dirs:
                    prefix = "/" if node.path == "/" else node.path + "/"
                    below = [p for p in view.nodes if p != "/" and p.startswith(prefix)]
                    assert counts[node.path] == len(below), (layer, aggregated, node.path)
                # a folded directory stands for one row in its parents
                folded = next(node for node in view.dirs if node.path != "/")
                with_fold = full_counts(view, {folded.path})
                hidden = counts[folded.path]
                assert with_fold["/"] == counts["/"] - hidden
