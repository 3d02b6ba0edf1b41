"""The treemap's data: nesting, directory totals, chains, folding beyond the leaf limit."""

from __future__ import annotations

from typing import Any

from layerscope.render.html.fstree import FOLDED, HIDDEN, Leaf, build_treemap


def _find(node: list[Any], name: str) -> list[Any]:
    for child in node[3]:
        if child[0] == name:
            return child  # type: ignore[no-any-return]
    raise AssertionError(f"{name} not under {node[0]}: {[c[0] for c in node[3]]}")


def test_directories_hold_their_files_and_their_totals() -> None:
    leaves = [
        Leaf("/etc/passwd", 100, 0),
        Leaf("/etc/group", 50, 0),
        Leaf("/usr/bin/python3", 5000, 1),
        Leaf("/usr/lib/libc.so", 3000, 0),
        Leaf("/tmp/model.bin", 7000, 2, note=0, flag=HIDDEN),
        Leaf("/empty", 0, 3),
    ]
    data = build_treemap(leaves)
    root = data.tree
    assert root[1] == 100 + 50 + 5000 + 3000 + 7000
    assert root[4] == 100 + 50 + 5000 + 3000  # without the hidden copy
    assert data.leaves == 5 and data.folded_files == 0  # the empty file has no area
    names = [child[0] for child in root[3]]
    assert names == ["usr", "tmp", "etc"]  # largest first
    usr = _find(root, "usr")
    assert usr[1] == 8000 and usr[2] == 1  # python3's layer holds most of /usr
    assert [c[:2] for c in usr[3]] == [["bin", 5000], ["lib", 3000]]
    tmp = _find(root, "tmp")
    assert tmp[1] == 7000 and tmp[4] == 0 and tmp[3] == [["model.bin", 7000, 2, 0, HIDDEN]]
    etc = _find(root, "etc")
    assert [c[:2] for c in etc[3]] == [["passwd", 100], ["group", 50]]


def test_a_chain_of_single_directories_is_one_node() -> None:
    data = build_treemap([Leaf("/a/b/c/f1", 10, 0), Leaf("/a/b/c/f2", 20, 0), Leaf("/x", 1, 0)])
    assert [child[0] for child in data.tree[3]] == ["a/b/c", "x"]
    chain = data.tree[3][0]
    assert [c[0] for c in chain[3]] == ["f2", "f1"]


def test_beyond_the_limit_the_smallest_files_fold_into_their_directory() -> None:
    sizes = {f"/data/big{i}": 1000 + i for i in range(5)}
    sizes |= {f"/data/small{i}": 10 + i for i in range(20)}
    sizes |= {f"/logs/tiny{i}": 1 for i in range(7)}
    data = build_treemap([Leaf(path, size, 0) for path, size in sizes.items()], limit=5)
    assert data.leaves == 5
    assert data.folded_files == 27
    assert data.folded_bytes == sum(10 + i for i in range(20)) + 7
    assert data.tree[1] == sum(sizes.values())  # folding keeps every byte
    folded_data = _find(data.tree, "data")
    kept = sorted(c[0] for c in folded_data[3] if c[4] != FOLDED)
    assert kept == [f"big{i}" for i in range(5)]
    bucket = next(c for c in folded_data[3] if c[4] == FOLDED)
    assert bucket[0] == "20 smaller files" and bucket[1] == sum(10 + i for i in range(20))
    logs = _find(data.tree, "logs")
    assert logs[3] == [["7 smaller files", 7, 0, -1, FOLDED]]


def test_the_folded_leaf_takes_the_layer_with_most_bytes() -> None:
    leaves = [Leaf("/big", 100, 0), Leaf("/d/a", 1, 1), Leaf("/d/b", 1, 1), Leaf("/d/c", 5, 2)]
    data = build_treemap(leaves, limit=1)
    bucket = _find(data.tree, "d")[3][0]
    assert bucket[:3] == ["3 smaller files", 7, 2]
