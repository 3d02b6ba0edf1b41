"""The compiled common case of stacking (native/stack.c, ``layerscope._stack``) against its
oracle, the pure-Python FsTree.

``place`` (new paths) and ``whiteout`` (a layer's whiteouts) are both checked. The layers of
the dive fixtures, the demo fixture and the project's builder images, and random
layer sequences (new paths, rewrites, missing parents, whiteouts of files and directories,
opaque directories, a file over a directory and a directory over a file, markers of absent
paths, a non-directory root) are applied both ways: every LayerApplied, the final nodes in their
order, the children index and any error must be identical.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from layerscope import tree
from layerscope.errors import LayerscopeError
from layerscope.model import EntryKind, FileEntry, Image
from layerscope.sources import load_image
from layerscope.testing import write_image
from layerscope.testing.memory import dir_entry, file_entry, opaque_entry, whiteout_entry
from layerscope.testing.memory import symlink_entry as link_entry
from layerscope.testing.specs import chown_rewrite_spec, large_spec

from .conftest import DIVE_FIXTURE_IMAGES

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def native_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the entries the compiled loop placed (so no test passes without it)."""
    place = tree.NATIVE_PLACE
    if place is None:
        pytest.fail(
            "layerscope._stack is not used: not built (no C compiler when `pip install -e .` "
            "ran?) or LAYERSCOPE_PURE_PYTHON is set"
        )
    whiteout = tree.NATIVE_WHITEOUT
    if whiteout is None:
        pytest.fail("layerscope._stack has no whiteout(): rebuild it (setup.py build_ext)")
    placed = [0, 0]  # entries placed, removals filed by whiteout()

    def counting(*args: Any) -> int:
        added: list[Any] = args[5]
        before = len(added)
        stop = place(*args)
        placed[0] += len(added) - before
        return stop

    def counting_whiteouts(*args: Any) -> None:
        removed: dict[str, Any] = args[3]
        before = len(removed)
        whiteout(*args)
        placed[1] += len(removed) - before

    monkeypatch.setattr(tree, "NATIVE_PLACE", counting)
    monkeypatch.setattr(tree, "NATIVE_WHITEOUT", counting_whiteouts)
    return placed


def _outcome(layers: list[list[FileEntry]], pure: bool) -> tuple[Any, ...]:
    fs = tree.FsTree(pure_python=pure)
    applied = []
    try:
        for index, entries in enumerate(layers):
            applied.append(fs.apply_layer(index, entries))
    except LayerscopeError as exc:
        return ("error", type(exc).__name__, str(exc), applied)
    children = {path: sorted(fs.children(path)) for path in fs.nodes()}
    return (applied, list(fs.nodes().items()), children, fs.children())


def _check(layers: list[list[FileEntry]], name: str) -> None:
    assert _outcome(layers, pure=False) == _outcome(layers, pure=True), name


def _layers(image: Image) -> list[list[FileEntry]]:
    return [list(layer.entries) for layer in image.layers]


def test_dive_fixtures_and_builder_images(
    dive_fixtures: Path, tmp_path: Path, native_calls: list[int]
) -> None:
    for name in DIVE_FIXTURE_IMAGES:
        _check(_layers(load_image(str(dive_fixtures / f"{name}.tar"))), name)
    _check(_layers(load_image(str(REPO / "fixtures" / "demo" / "demo-app.tar"))), "demo")
    specs = {
        "chown": chown_rewrite_spec(),
        "large": large_spec(files=3000, total_bytes=2**20, whiteouts=300, rewrites=120),
    }
    for name, spec in specs.items():
        write_image(spec, tmp_path / f"{name}.tar")
        _check(_layers(load_image(str(tmp_path / f"{name}.tar"))), name)
    assert native_calls[0] > 100 and native_calls[1] > 300


_NAMES = ["a", "b", "c", "d"]


def _random_path(rng: random.Random) -> str:
    return "/" + "/".join(rng.choice(_NAMES) for _ in range(rng.randint(1, 4)))


def _random_entry(rng: random.Random) -> FileEntry:
    path = _random_path(rng)
    roll = rng.random()
    if roll < 0.35:
        return file_entry(path, rng.choice([0, 5, 70]), content=rng.choice(["x", "y"]))
    if roll < 0.65:
        return dir_entry(path, mode=rng.choice([0o755, 0o700]))
    if roll < 0.72:
        return link_entry(path, rng.choice(["a", "/b/c"]))
    if roll < 0.88:
        return whiteout_entry(path)
    if roll < 0.97:
        return opaque_entry(path)
    return rng.choice([dir_entry("/"), whiteout_entry("/"), opaque_entry("/"), file_entry("/")])


def test_random_layer_sequences(native_calls: list[int]) -> None:
    rng = random.Random(17)
    for case in range(1500):
        layers = []
        for _ in range(rng.randint(1, 5)):
            entries = [_random_entry(rng) for _ in range(rng.randint(0, 14))]
            by_path = {entry.path: entry for entry in entries}  # one entry per path, as tars
            layers.append(list(by_path.values()))
        _check(layers, f"case {case}")
    assert native_calls[0] > 1000 and native_calls[1] > 1000


def test_a_wide_tree_then_whiteouts_and_rewrites(native_calls: list[int]) -> None:
    base = [dir_entry(f"/d{i}") for i in range(50)]
    base += [file_entry(f"/d{i}/f{j}", j, content=str(j)) for i in range(50) for j in range(40)]
    upper = [whiteout_entry(f"/d{i}") for i in range(0, 50, 7)]
    upper += [file_entry(f"/d{i}/f{j}", 1) for i in range(1, 50, 3) for j in range(0, 40, 9)]
    upper += [dir_entry(f"/d{i}/f3") for i in range(2, 50, 5)]  # a directory over a file
    upper += [file_entry(f"/d{i}", 2) for i in range(4, 50, 11)]  # a file over a directory
    upper += [file_entry(f"/new/x/{j}", 3) for j in range(20)]  # implied parents
    upper += [opaque_entry(f"/d{i}") for i in range(5, 50, 13)]
    upper += [file_entry(f"/d0/f{j}", 4) for j in range(5)]  # rewritten after a whiteout
    _check([base, upper, list(reversed(upper))], "wide")
    assert native_calls[0] >= len(base) and native_calls[1] >= 8 * 41


def test_the_compiled_loop_places_plain_paths_itself() -> None:
    """An entry it cannot place is left to tree.py untouched: the returned index says where."""
    place = tree.NATIVE_PLACE
    assert place is not None, "layerscope._stack is not built"
    nodes: dict[str, tree.Placed] = {}
    children: dict[str, set[str]] = {}
    added: list[tree.Placed] = []
    entries = [dir_entry("/a"), file_entry("/a/x", 1), file_entry("/b/y", 2), dir_entry("/c")]
    assert place(0, entries, 0, nodes, children, added, {}) == 2  # /b is missing
    assert list(nodes) == ["/a", "/a/x"] and children == {"/": {"/a"}, "/a": {"/a/x"}}
    assert added == [tree.Placed(0, entries[0]), tree.Placed(0, entries[1])]
    assert place(0, entries, 3, nodes, children, added, {}) == 4
    assert place(0, [file_entry("/a/x", 5)], 0, nodes, children, added, {}) == 0  # a rewrite
    assert place(1, [entries[2]], 0, nodes, children, added, {}) == 0
    assert nodes["/c"] == tree.Placed(0, entries[3]) and not nodes["/c"].implicit
    assert EntryKind.DIR is nodes["/a"].entry.kind


def test_whiteout_removes_below_then_the_target() -> None:
    """whiteout() files the removals of each target's descendants, then the target, and skips
    the root and absent targets (tree.py's order; the random sequences check the rest)."""
    whiteout = tree.NATIVE_WHITEOUT
    assert whiteout is not None, "layerscope._stack is not built"
    fs = tree.FsTree(pure_python=True)
    layer = [dir_entry("/a"), dir_entry("/a/b"), file_entry("/a/b/c", 1), file_entry("/d", 2)]
    fs.apply_layer(0, layer)
    nodes, children = dict(fs.nodes()), {p: set(fs.children(p)) for p in ["/", "/a", "/a/b"]}
    removed: dict[str, tree.Removal] = {}
    whiteout(["/", "/zz", "/a", "/d"], nodes, children, removed, tree.RemovalCause.WHITEOUT)
    assert list(removed) == ["/a/b", "/a/b/c", "/a", "/d"]
    assert removed["/a/b/c"] == tree.Removal(tree.Placed(0, layer[2]), tree.RemovalCause.WHITEOUT)
    assert nodes == {} and children == {}


def test_made_by_columns_compiled_and_python_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """``made_by_columns`` through ``_entries.build`` against its Python loop: the same
    objects, from lists and from other iterables (an endless ``repeat`` too), and a column
    shorter than ``count`` leaves the same unset slots (the Python loop handles it)."""
    from itertools import repeat

    from layerscope.analysis.waste import WasteItem, WasteReason
    from layerscope.tree import fast

    if fast._BUILD is None:
        pytest.fail("layerscope._entries is not built (or LAYERSCOPE_PURE_PYTHON is set)")
    entries = [file_entry(f"/f{i}", i) for i in range(40)]
    placed = [tree.Placed(i % 3, entry) for i, entry in enumerate(entries)]
    cases: list[tuple[type[Any], int, Any]] = [
        (tree.Placed, 40, lambda: (repeat(2), iter(entries), repeat(True))),
        (tree.Removal, 40, lambda: (placed, repeat(tree.RemovalCause.OPAQUE))),
        (tree.Removal, 5, lambda: (placed[:3], repeat(tree.RemovalCause.WHITEOUT))),
        (
            WasteItem,
            40,
            lambda: (
                [e.path for e in entries],
                repeat(WasteReason.DELETED),
                [e.size_bytes for e in entries],
                list(range(40)),
                repeat("RUN x"),
                (i + 1 for i in range(40)),
                repeat("RUN y"),
            ),
        ),
    ]

    def seen(objects: list[Any], cls: type[Any]) -> list[Any]:
        return [(type(o), [getattr(o, slot, "<unset>") for slot in cls.__slots__]) for o in objects]

    for cls, count, columns in cases:
        compiled = seen(fast.made_by_columns(cls, count, columns()), cls)
        with monkeypatch.context() as patched:
            patched.setattr(fast, "_BUILD", None)
            python = seen(fast.made_by_columns(cls, count, columns()), cls)
        assert compiled == python, cls
        assert len(compiled) == count
