"""layer_changes: added / modified / removed per layer."""

from __future__ import annotations

from layerscope.analysis.changes import ChangeKind, FileChange, ModifyDetail, layer_changes
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import hardlink_entry as hl
from layerscope.testing.memory import memory_image as image
from layerscope.testing.memory import opaque_entry as opq
from layerscope.testing.memory import symlink_entry as sym
from layerscope.testing.memory import whiteout_entry as wh
from layerscope.tree import RemovalCause


def by_path(changes: tuple[FileChange, ...]) -> dict[str, FileChange]:
    return {c.path: c for c in changes}


def test_added_files_and_implicit_parents() -> None:
    # /usr and /usr/bin are implied: not reported. /usr/lib is an explicit dir: reported but
    # not counted. Counted: /usr/bin/a, /usr/lib/b, /usr/bin/l (symlink) = 3.
    img = image([f("/usr/bin/a", 5), d("/usr/lib"), f("/usr/lib/b", 7), sym("/usr/bin/l", "a")])
    (layer0,) = layer_changes(img)
    assert [c.path for c in layer0.changes] == [
        "/usr/bin/a",
        "/usr/bin/l",
        "/usr/lib",
        "/usr/lib/b",
    ]
    assert all(c.kind is ChangeKind.ADDED for c in layer0.changes)
    assert by_path(layer0.changes)["/usr/lib"].is_dir
    assert (layer0.added, layer0.modified, layer0.removed) == (3, 0, 0)
    assert layer0.added_bytes == 5 + 7


def test_modification_details() -> None:
    img = image(
        [
            f("/content", 10, content="a"),
            f("/meta", 10, content="m", mode=0o644),
            f("/same", 10, content="s", mtime=1.0),
            f("/same_mtime_too", 10, content="t", mtime=1.0),
            f("/xattr", 10, content="x"),
            sym("/link", "one"),
        ],
        [
            f("/content", 12, content="b"),
            f("/meta", 10, content="m", mode=0o600),
            f("/same", 10, content="s", mtime=2.0),
            f("/same_mtime_too", 10, content="t", mtime=1.0),
            f("/xattr", 10, content="x", xattrs=(("user.k", "76"),)),
            sym("/link", "two"),
        ],
    )
    _, layer1 = layer_changes(img)
    changes = by_path(layer1.changes)
    assert changes["/content"].detail is ModifyDetail.CONTENT
    assert changes["/content"].size_delta_bytes == 2
    assert changes["/meta"].detail is ModifyDetail.METADATA
    assert changes["/xattr"].detail is ModifyDetail.METADATA
    assert changes["/same"].detail is ModifyDetail.IDENTICAL and changes["/same"].mtime_only
    same = changes["/same_mtime_too"]
    assert same.detail is ModifyDetail.IDENTICAL and not same.mtime_changed and not same.mtime_only
    assert changes["/link"].detail is ModifyDetail.CONTENT
    assert layer1.modified == 6 and layer1.added == 0 and layer1.removed == 0


def test_before_tracks_the_layer_that_wrote_the_visible_version() -> None:
    img = image([f("/f", 1, content="a")], [f("/g", 1)], [f("/f", 2, content="b")])
    change = by_path(layer_changes(img)[2].changes)["/f"]
    assert change.before is not None and change.before.layer_index == 0
    assert change.after is not None and change.after.layer_index == 2


def test_removed_by_whiteout_opaque_and_type_change() -> None:
    # L1: whiteout of the dir /w (with /w/a, /w/b), opaque /o (hides /o/x, keeps /o/new),
    # /t replaced by a file (drops /t/y). Removed non-dirs: /w/a, /w/b, /o/x, /t/y = 4.
    # Removed dirs: /w (explicit in L0, flagged, not counted). Modified: /t (dir -> file) = 1.
    # Added: /o/new = 1.
    img = image(
        [d("/w"), f("/w/a", 3), f("/w/b", 4), d("/o"), f("/o/x", 5), d("/t"), f("/t/y", 6)],
        [wh("/w"), f("/o/new", 1), opq("/o"), f("/t", 2)],
    )
    _, layer1 = layer_changes(img)
    changes = by_path(layer1.changes)
    assert {p: c.removed_by for p, c in changes.items() if c.kind is ChangeKind.REMOVED} == {
        "/w": RemovalCause.WHITEOUT,
        "/w/a": RemovalCause.WHITEOUT,
        "/w/b": RemovalCause.WHITEOUT,
        "/o/x": RemovalCause.OPAQUE,
        "/t/y": RemovalCause.PARENT_REPLACED,
    }
    assert changes["/w"].is_dir
    assert changes["/t"].kind is ChangeKind.MODIFIED and not changes["/t"].is_dir
    assert (layer1.added, layer1.modified, layer1.removed) == (1, 1, 4)
    assert layer1.removed_bytes == 3 + 4 + 5 + 6
    # Every removed L0 file is reclaimable: 3 + 4 + 5 + 6 = 18, written by L0.
    assert layer_changes(img)[0].reclaimable_bytes == 18
    assert layer1.reclaimable_bytes == 0


def test_whiteout_of_absent_path_and_same_layer_whiteout_report_nothing() -> None:
    img = image([f("/a", 1)], [wh("/missing"), f("/b", 1), wh("/b")])
    _, layer1 = layer_changes(img)
    assert [(c.path, c.kind) for c in layer1.changes] == [("/b", ChangeKind.ADDED)]


def test_written_deleted_rewritten() -> None:
    img = image([f("/f", 5, content="c")], [wh("/f")], [f("/f", 5, content="c")])
    l0, l1, l2 = layer_changes(img)
    assert [(c.path, c.kind) for c in l1.changes] == [("/f", ChangeKind.REMOVED)]
    # /f did not exist below L2, so L2 adds it (not a modification).
    assert [(c.path, c.kind) for c in l2.changes] == [("/f", ChangeKind.ADDED)]
    assert l0.reclaimable_bytes == 5


def test_whiteout_and_rewrite_in_one_layer_is_a_modification() -> None:
    img = image([f("/f", 5, content="c")], [wh("/f"), f("/f", 5, content="c", uid=7)])
    (change,) = layer_changes(img)[1].changes
    assert change.kind is ChangeKind.MODIFIED and change.detail is ModifyDetail.METADATA


def test_explicit_dir_over_implicit_is_added_and_dir_attr_change_is_modified_dir() -> None:
    img = image([f("/a/x", 1)], [d("/a")], [d("/a", mode=0o700)])
    _, l1, l2 = layer_changes(img)
    (added,) = l1.changes
    assert added.kind is ChangeKind.ADDED and added.is_dir
    (modified,) = l2.changes
    assert modified.kind is ChangeKind.MODIFIED and modified.is_dir
    assert modified.detail is ModifyDetail.METADATA
    assert (l1.added, l2.modified) == (0, 0)


def test_hardlinks_are_counted_as_files_of_zero_bytes() -> None:
    img = image([f("/a", 9), hl("/b", "/a")])
    (layer0,) = layer_changes(img)
    assert layer0.added == 2
    assert layer0.added_bytes == 9
