"""The treemap's data: file-sized leaves nested by directory, with small files folded into their
directory beyond a limit so a 100k-file image still makes a page of a few MB.

Node shapes (the page's script reads them; JSON arrays keep the page small):

- directory ``[name, bytes, category, children, bytes_without_hidden]``; ``category`` is the one
  holding the most bytes below it; children largest first; a chain of single directories
  is one node named ``a/b/c``;
- leaf ``[name, bytes, category, note, flag(, key, extra)]``; ``note`` indexes the page's notes
  (-1 for none); ``flag`` 0 = visible, 1 = hidden by a later layer, 2 = folded small files;
  ``key`` (what selecting a layer highlights) defaults to the category; ``extra`` is a short text
  for the tooltip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LEAF_LIMIT = 40_000
"""Leaves drawn individually; smaller files beyond it become one leaf per directory."""

VISIBLE, HIDDEN, FOLDED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Leaf:
    """One file (or hidden copy) of the treemap."""

    path: str
    size_bytes: int
    category: int
    note: int = -1
    flag: int = VISIBLE
    key: int | None = None
    extra: str | None = None


@dataclass(frozen=True, slots=True)
class TreemapData:
    """The nested tree and what folding did."""

    tree: list[Any]
    leaves: int
    """Leaves drawn individually."""
    folded_files: int
    """Files folded into a per-directory "N smaller files" leaf."""
    folded_bytes: int


@dataclass(slots=True)
class _Dir:
    dirs: dict[str, _Dir] = field(default_factory=dict)
    leaves: list[list[Any]] = field(default_factory=list)
    folded: dict[int, int] = field(default_factory=dict)
    """category -> bytes of folded files"""
    folded_count: int = 0


def _child(root: _Dir, path: str) -> tuple[_Dir, str]:
    """The directory node of ``path``'s parent (created on the way) and its base name."""
    node = root
    parts = [part for part in path.split("/") if part]
    for part in parts[:-1]:
        nxt = node.dirs.get(part)
        if nxt is None:
            nxt = node.dirs[part] = _Dir()
        node = nxt
    return node, parts[-1] if parts else "/"


def _leaf(leaf: Leaf, name: str) -> list[Any]:
    out: list[Any] = [name, leaf.size_bytes, leaf.category, leaf.note, leaf.flag]
    if leaf.key is not None or leaf.extra is not None:
        out.append(leaf.category if leaf.key is None else leaf.key)
        if leaf.extra is not None:
            out.append(leaf.extra)
    return out


def _freeze(name: str, node: _Dir) -> list[Any]:
    while not node.leaves and not node.folded and len(node.dirs) == 1 and name != "/":
        (sub, only), = node.dirs.items()  # fmt: skip
        name, node = f"{name}/{sub}", only
    children = [_freeze(sub, child) for sub, child in node.dirs.items()]
    children.extend(node.leaves)
    if node.folded_count:
        folded_bytes = sum(node.folded.values())
        main = max(node.folded, key=lambda c: node.folded[c])
        count = node.folded_count
        label = f"{count:,} smaller file{'s' if count != 1 else ''}"
        children.append([label, folded_bytes, main, -1, FOLDED])
    children.sort(key=lambda item: (-item[1], item[0]))
    total = visible = 0
    by_category: dict[int, int] = {}
    for child in children:
        total += child[1]
        is_dir = isinstance(child[3], list)
        visible += child[4] if is_dir else (0 if child[4] == HIDDEN else child[1])
        by_category[child[2]] = by_category.get(child[2], 0) + child[1]
    main_category = max(by_category, key=lambda c: by_category[c]) if by_category else 0
    return [name, total, main_category, children, visible]


def build_treemap(leaves: Iterable[Leaf], *, limit: int = DEFAULT_LEAF_LIMIT) -> TreemapData:
    """Nest ``leaves`` by directory; beyond ``limit`` leaves the smallest are folded into one
    leaf per directory. Leaves of 0 bytes are left out (they have no area)."""
    items = [leaf for leaf in leaves if leaf.size_bytes > 0]
    folded: list[Leaf] = []
    if len(items) > limit:
        items.sort(key=lambda leaf: (-leaf.size_bytes, leaf.path))
        items, folded = items[:limit], items[limit:]
    root = _Dir()
    for leaf in items:
        parent, name = _child(root, leaf.path)
        parent.leaves.append(_leaf(leaf, name))
    for leaf in folded:
        parent, _name = _child(root, leaf.path)
        parent.folded[leaf.category] = parent.folded.get(leaf.category, 0) + leaf.size_bytes
        parent.folded_count += 1
    return TreemapData(
        tree=_freeze("/", root),
        leaves=len(items),
        folded_files=len(folded),
        folded_bytes=sum(leaf.size_bytes for leaf in folded),
    )


class Notes:
    """Tooltip notes shared by many leaves, each stored once in the page."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, text: str) -> int:
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.texts)
            self.texts.append(text)
        return found
