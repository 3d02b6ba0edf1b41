"""Overlay semantics and path safety of layerscope.tree."""

from __future__ import annotations

import pytest

from layerscope.errors import LayerFormatError, UnsafePathError
from layerscope.model import EntryKind, FileEntry
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import opaque_entry as opq
from layerscope.testing.memory import whiteout_entry as wh
from layerscope.tree import (
    FsTree,
    LayerStack,
    RemovalCause,
    check_link_target,
    normalize_member_path,
)


def paths(tree: FsTree) -> set[str]:
    return set(tree.nodes())


# -- path safety --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("etc/passwd", "/etc/passwd"),
        ("./etc/", "/etc"),
        ("./", "/"),
        (".", "/"),
        ("a/./b//c/", "/a/b/c"),
        ("a/../b", "/b"),
        ("./usr/lib/.wh.foo", "/usr/lib/.wh.foo"),
        # Absolute names are joined under the root, as go-archive and containerd do.
        ("/etc/passwd", "/etc/passwd"),
        ("//etc//x/", "/etc/x"),
        ("/", "/"),
    ],
)
def test_normalize_member_path(name: str, expected: str) -> None:
    assert normalize_member_path(name) == expected


@pytest.mark.parametrize(
    "name", ["..", "../etc/passwd", "a/../../x", "./../x", "/../x", "/a/../../x"]
)
def test_normalize_member_path_rejects_escapes(name: str) -> None:
    with pytest.raises(UnsafePathError):
        normalize_member_path(name)


def test_normalize_member_path_rejects_empty_name() -> None:
    with pytest.raises(LayerFormatError):
        normalize_member_path("")


@pytest.mark.parametrize(
    ("target", "expected"),
    [("usr/bin/a", "/usr/bin/a"), ("./usr/bin/a", "/usr/bin/a"), ("/usr/bin/a", "/usr/bin/a")],
)
def test_hardlink_targets_become_absolute_archive_paths(target: str, expected: str) -> None:
    assert check_link_target("/usr/bin/b", target, EntryKind.HARDLINK) == expected


@pytest.mark.parametrize("target", ["../x", "a/../../x", "/", ""])
def test_hardlink_escapes_rejected(target: str) -> None:
    with pytest.raises(UnsafePathError):
        check_link_target("/usr/bin/b", target, EntryKind.HARDLINK)


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("/usr/bin/link", "/etc/x"),  # absolute: resolved inside the image root
        ("/usr/bin/link", "../lib/x"),  # /usr/bin -> /usr -> /usr/lib/x
        ("/usr/bin/link", "../../x"),  # /usr/bin -> /usr -> / -> /x
        ("/link", "./x"),
        ("/d/link", "a/../../x"),  # [d] -> [d,a] -> [d] -> [] -> /x
        ("/link", "dangling/nowhere"),
    ],
)
def test_symlink_targets_inside_root_kept_verbatim(link: str, target: str) -> None:
    assert check_link_target(link, target, EntryKind.SYMLINK) == target


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("/link", "../x"),  # the link's dir is / already
        ("/usr/link", "../../x"),  # /usr -> / -> above
        ("/a/b/link", "../../../x"),
        ("/d/link", "x/../../../y"),  # [d] -> [d,x] -> [d] -> [] -> above
    ],
)
def test_symlink_targets_climbing_above_root_rejected(link: str, target: str) -> None:
    with pytest.raises(UnsafePathError):
        check_link_target(link, target, EntryKind.SYMLINK)


def test_check_link_target_wants_a_link_kind() -> None:
    with pytest.raises(ValueError):
        check_link_target("/a", "b", EntryKind.FILE)


# -- applying layers ----------------------------------------------------------------------------


def test_missing_parents_are_implied_not_added() -> None:
    tree = FsTree()
    result = tree.apply_layer(0, [f("/a/b/c", 5)])
    assert [n.path for n in result.added] == ["/a/b/c"]
    assert [n.path for n in result.implied] == ["/a", "/a/b"]
    node = tree.get("/a/b")
    assert node is not None and node.implicit and node.entry.is_dir
    assert tree.children("/a") == ("/a/b",)
    assert tree.children() == ("/a",)


def test_explicit_dir_after_its_children_replaces_the_implicit_one() -> None:
    tree = FsTree()
    result = tree.apply_layer(0, [f("/a/x", 1), d("/a", mode=0o700)])
    assert [n.path for n in result.added] == ["/a/x"]
    assert len(result.replaced) == 1
    assert result.replaced[0].before.implicit
    node = tree.get("/a")
    assert node is not None and not node.implicit and node.entry.mode == 0o700
    assert "/a/x" in tree


def test_whiteout_of_file_removes_only_it() -> None:
    tree = FsTree()
    tree.apply_layer(0, [d("/a"), f("/a/f", 1), f("/a/g", 2)])
    result = tree.apply_layer(1, [wh("/a/f")])
    assert [(r.path, r.cause) for r in result.removed] == [("/a/f", RemovalCause.WHITEOUT)]
    assert paths(tree) == {"/a", "/a/g"}


def test_whiteout_of_dir_removes_subtree() -> None:
    tree = FsTree()
    tree.apply_layer(0, [d("/a"), f("/a/f", 1), f("/a/sub/g", 2), f("/b", 3)])
    result = tree.apply_layer(1, [wh("/a")])
    assert {r.path for r in result.removed} == {"/a", "/a/f", "/a/sub", "/a/sub/g"}
    assert all(r.cause is RemovalCause.WHITEOUT for r in result.removed)
    assert {r.path for r in result.removed if r.before.implicit} == {"/a/sub"}
    assert paths(tree) == {"/b"}
    assert tree.children() == ("/b",)


def test_whiteout_of_absent_path_is_a_no_op() -> None:
    tree = FsTree()
    tree.apply_layer(0, [f("/a", 1)])
    result = tree.apply_layer(1, [wh("/nothing")])
    assert result.removed == () and result.added == () and result.implied == ()
    assert paths(tree) == {"/a"}


def test_whiteout_marker_implies_its_directory() -> None:
    # The marker /x/.wh.y lives in /x, so appliers create /x even though /x/y is absent.
    tree = FsTree()
    result = tree.apply_layer(0, [wh("/x/y")])
    assert [n.path for n in result.implied] == ["/x"]
    assert paths(tree) == {"/x"}


@pytest.mark.parametrize("order", ["whiteout-first", "file-first"])
def test_whiteout_does_not_delete_a_path_of_its_own_layer(order: str) -> None:
    entries = [wh("/f"), f("/f", 3)] if order == "whiteout-first" else [f("/f", 3), wh("/f")]
    tree = FsTree()
    result = tree.apply_layer(0, entries)
    assert [n.path for n in result.added] == ["/f"]
    assert result.removed == ()
    assert paths(tree) == {"/f"}


def test_whiteout_then_rewrite_in_one_layer_is_a_replacement() -> None:
    tree = FsTree()
    tree.apply_layer(0, [f("/f", 1, content="old")])
    result = tree.apply_layer(1, [wh("/f"), f("/f", 2, content="new")])
    assert result.removed == () and result.added == ()
    (swap,) = result.replaced
    assert (swap.before.layer_index, swap.after.layer_index) == (0, 1)


@pytest.mark.parametrize("marker_first", [True, False])
def test_opaque_dir_hides_lower_children_only(marker_first: bool) -> None:
    tree = FsTree()
    tree.apply_layer(0, [d("/d"), f("/d/old", 1), d("/d/sub"), f("/d/sub/x", 1), f("/e", 1)])
    same_layer = [f("/d/before", 1), f("/d/after", 1)]
    entries = (
        [opq("/d"), *same_layer] if marker_first else [same_layer[0], opq("/d"), same_layer[1]]
    )
    result = tree.apply_layer(1, entries)
    assert {r.path for r in result.removed} == {"/d/old", "/d/sub", "/d/sub/x"}
    assert all(r.cause is RemovalCause.OPAQUE for r in result.removed)
    assert {n.path for n in result.added} == {"/d/before", "/d/after"}
    assert paths(tree) == {"/d", "/d/before", "/d/after", "/e"}
    node = tree.get("/d")
    assert node is not None and node.layer_index == 0  # the marker does not rewrite /d


def test_opaque_dir_rewriting_a_hidden_name_is_a_replacement() -> None:
    tree = FsTree()
    tree.apply_layer(0, [d("/d"), f("/d/x", 1, content="a")])
    result = tree.apply_layer(1, [f("/d/x", 2, content="b"), opq("/d")])
    assert result.removed == ()
    assert [(s.before.layer_index, s.after.layer_index) for s in result.replaced] == [(0, 1)]


def test_opaque_marker_of_absent_dir_implies_it() -> None:
    tree = FsTree()
    result = tree.apply_layer(0, [opq("/new/d")])
    assert [n.path for n in result.implied] == ["/new", "/new/d"]


def test_file_replacing_dir_drops_subtree() -> None:
    tree = FsTree()
    tree.apply_layer(0, [d("/x"), f("/x/a", 4), f("/x/b/c", 6)])
    result = tree.apply_layer(1, [f("/x", 7)])
    (swap,) = result.replaced
    assert swap.before.entry.kind is EntryKind.DIR and swap.after.entry.kind is EntryKind.FILE
    assert {r.path for r in result.removed} == {"/x/a", "/x/b", "/x/b/c"}
    assert all(r.cause is RemovalCause.PARENT_REPLACED for r in result.removed)
    assert paths(tree) == {"/x"}
    assert tree.children("/x") == ()


def test_dir_replacing_file() -> None:
    tree = FsTree()
    tree.apply_layer(0, [f("/x", 10)])
    result = tree.apply_layer(1, [d("/x"), f("/x/y", 1)])
    assert [s.path for s in result.replaced] == ["/x"]
    assert [n.path for n in result.added] == ["/x/y"]
    assert result.removed == ()


def test_dir_over_dir_keeps_children() -> None:
    tree = FsTree()
    tree.apply_layer(0, [d("/d"), f("/d/f", 1)])
    result = tree.apply_layer(1, [d("/d", mode=0o700)])
    assert result.removed == ()
    assert [s.path for s in result.replaced] == ["/d"]
    child = tree.get("/d/f")
    assert child is not None and child.layer_index == 0


def test_root_entry() -> None:
    tree = FsTree()
    tree.apply_layer(0, [d("/"), f("/a", 1)])
    assert paths(tree) == {"/", "/a"}
    with pytest.raises(LayerFormatError):
        tree.apply_layer(1, [f("/", 1)])


def test_opaque_root_hides_everything_below() -> None:
    tree = FsTree()
    tree.apply_layer(0, [f("/a/b", 1), f("/c", 1)])
    result = tree.apply_layer(1, [opq("/"), f("/new", 1)])
    assert {r.path for r in result.removed} == {"/a", "/a/b", "/c"}
    assert paths(tree) == {"/new"}


# -- the stacked views --------------------------------------------------------------------------


class _Layer:
    """The two attributes LayerStack reads."""

    def __init__(self, index: int, entries: list[FileEntry]) -> None:
        self.index = index
        self.entries = tuple(entries)


def test_layer_stack_aggregated_views() -> None:
    layers = [
        _Layer(0, [f("/a/x", 1), f("/b", 2)]),
        _Layer(1, [d("/a"), wh("/b"), f("/c", 3)]),
        _Layer(2, [f("/c", 4, content="new"), wh("/a")]),
    ]
    stack = LayerStack(layers)  # type: ignore[arg-type]
    assert len(stack) == 3
    at0, at1, at2 = stack.at(0), stack.at(1), stack.at(2)
    assert set(at0) == {"/a", "/a/x", "/b"}
    assert at0["/a"].implicit
    assert set(at1) == {"/a", "/a/x", "/c"}
    assert not at1["/a"].implicit and at1["/a"].layer_index == 1
    assert at1["/a/x"].layer_index == 0
    assert set(at2) == {"/c"}
    assert at2["/c"].layer_index == 2
    assert at2 is stack.final
    assert at1.children() == ("/a", "/c")
    assert at1.children("/a") == ("/a/x",)
    assert at1.children("/c") == ()
    with pytest.raises(IndexError):
        stack.at(3)


def test_layer_stack_same_layer_implicit_then_explicit_not_visible_twice() -> None:
    stack = LayerStack([_Layer(0, [f("/a/x", 1), d("/a")])])  # type: ignore[list-item]
    assert not stack.at(0)["/a"].implicit
    assert len(stack.at(0)) == 2


def test_scale_135k_paths_2k_dir_whiteouts() -> None:
    # Layer 0: 2,500 top dirs, each with 1 dir entry + 1 file + 2 subdirs of 25 files:
    # 1 + 1 + 2 * (1 + 25) = 54 paths per top dir, 2,500 * 54 = 135,000 paths.
    entries: list[FileEntry] = []
    for i in range(2500):
        entries.append(d(f"/d{i}"))
        entries.append(f(f"/d{i}/top", 10))
        for j in range(2):
            entries.append(d(f"/d{i}/s{j}"))
            entries.extend(f(f"/d{i}/s{j}/f{k}", 10) for k in range(25))
    assert len(entries) == 135_000
    tree = FsTree()
    tree.apply_layer(0, entries)
    assert len(tree) == 135_000
    # Layer 1 whites out 2,000 of the top dirs (every one but d2000..d2499) and adds 1 file.
    result = tree.apply_layer(1, [wh(f"/d{i}") for i in range(2000)] + [f("/new", 1)])
    assert len(result.removed) == 2000 * 54  # 108,000
    assert len(tree) == 500 * 54 + 1  # 27,001
    assert "/d1999" not in tree and "/d1999/s1/f24" not in tree
    assert "/d2000/s1/f24" in tree
    assert len(tree.children()) == 501
