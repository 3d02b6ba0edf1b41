"""dive_metrics on small in-code images; every expected figure is worked out by hand from dive's
algorithm (dive/filetree/efficiency.go at 0.13.1), with the arithmetic in the comments.

Reminder of the algorithm: for every layer, walk the *leaves* of its tree in name order; each leaf
path adds its size (a whiteout: 0 for a file, the removed subtree for a directory) to the path's
cumulative size and lowers its minimum; efficiency = sum(min) / sum(cumulative); paths seen >= 2
times are inefficient and wasted = sum of their cumulative sizes; user size = all layers but 0.
"""

from __future__ import annotations

import random

import pytest

from layerscope.analysis.dive import DiveInefficiency, DiveMetrics, dive_metrics
from layerscope.analysis.gosort import go_sort
from layerscope.model import FileEntry, Image
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import hardlink_entry as hl
from layerscope.testing.memory import memory_image
from layerscope.testing.memory import opaque_entry as opq
from layerscope.testing.memory import whiteout_entry as wh


def image(*layers: list[FileEntry]) -> Image:
    """An image whose layer sizes are the sums of the file sizes (what a tar of them declares)."""
    return memory_image(*layers)


def test_overwritten_file_counts_every_copy_as_waste() -> None:
    m = dive_metrics(image([f("/a", 100), f("/b", 50)], [f("/a", 30)]))
    # /a: 100 + 30 = 130 cumulative, min 30, seen twice; /b: 50, min 50
    assert m.efficiency_ratio == (30 + 50) / (130 + 50)
    assert m.wasted_bytes == 130
    assert m.inefficiencies == (DiveInefficiency("/a", 2, 130),)
    assert m.layer_sizes == (150, 30)
    assert m.size_bytes == 180
    assert m.user_size_bytes == 30
    assert m.user_wasted_ratio == 130 / 30


def test_file_whiteout_adds_zero_bytes() -> None:
    m = dive_metrics(image([d("/etc"), f("/etc/f", 100)], [d("/etc"), wh("/etc/f")]))
    # layer 0 leaves: /etc/f = 100 (/etc has a child, so it is not a leaf)
    # layer 1 leaves: /etc/.wh.f -> /etc/f, a file below -> 0 bytes
    # /etc/f: cumulative 100, min 0 -> efficiency 0 / 100
    assert m.efficiency_ratio == 0.0
    assert m.wasted_bytes == 100
    assert m.inefficiencies == (DiveInefficiency("/etc/f", 2, 100),)
    # layer 1 is 0 bytes: 100 / 0 is +Inf in dive -> None
    assert m.layer_sizes == (100, 0)
    assert m.user_wasted_ratio is None


def test_directory_whiteout_counts_the_removed_subtree_once() -> None:
    base = [d("/d"), f("/d/x", 10), d("/d/sub"), f("/d/sub/y", 20), f("/e", 5)]
    m = dive_metrics(image(base, [wh("/d")]))
    # layer 0 leaves: /d/sub/y 20, /d/x 10, /e 5
    # layer 1: /.wh.d -> /d is a dir below: 0 (/d) + 10 + 0 (/d/sub) + 20 = 30, seen once
    # sum(min) = 20 + 10 + 5 + 30 = 65 = sum(cumulative): dive calls this fully efficient
    assert m.efficiency_ratio == 1.0
    assert m.wasted_bytes == 0
    assert m.inefficiencies == ()
    assert m.user_wasted_ratio is None  # 0 / 0 is NaN in dive

    m = dive_metrics(image(base, [wh("/d")], [f("/d/x", 7)]))
    # layer 2: /d/x 7 -> /d/x cumulative 10 + 7 = 17, min 7
    # sum(min) = 20 + 7 + 5 + 30 = 62; sum(cumulative) = 20 + 17 + 5 + 30 = 72
    assert m.efficiency_ratio == 62 / 72
    assert m.inefficiencies == (DiveInefficiency("/d/x", 2, 17),)
    assert m.user_wasted_ratio == 17 / 7


def test_implied_parent_dir_makes_a_later_dir_whiteout_count_zero() -> None:
    # explicit: layer 1 has its own /d entry, so /d stays a directory in the stack
    explicit = image([d("/d"), f("/d/x", 10)], [d("/d"), f("/d/y", 5)], [wh("/d")], [d("/d")])
    # leaves: /d/x 10 (L0), /d/y 5 (L1), /d = 0 + 10 + 5 = 15 (L2 whiteout), /d = 0 (L3 empty dir)
    # /d: cumulative 15, min 0; sum(min) = 10 + 5 + 0 = 15; sum(cumulative) = 10 + 5 + 15 = 30
    m = dive_metrics(explicit)
    assert m.efficiency_ratio == 15 / 30
    assert m.inefficiencies == (DiveInefficiency("/d", 2, 15),)

    # implied: layer 1 has only /d/y; stacking it gives /d an empty FileInfo (not a dir),
    # so the whiteout of /d counts 0 bytes: /d cumulative 0 + 0, still seen twice
    implied = image([d("/d"), f("/d/x", 10)], [f("/d/y", 5)], [wh("/d")], [d("/d")])
    m = dive_metrics(implied)
    assert m.efficiency_ratio == (10 + 5 + 0) / (10 + 5 + 0)
    assert m.inefficiencies == (DiveInefficiency("/d", 2, 0),)
    assert m.wasted_bytes == 0


def test_missing_whiteout_target_ends_the_layer_walk_and_leaves_min_minus_one() -> None:
    m = dive_metrics(image([f("/a", 10)], [f("/b", 3), wh("/c"), f("/d", 4)], [f("/b", 3)]))
    # layer 1 in name order: ".wh.c" < "b" < "d"; /c is not below -> dive's visitor errors and
    # the rest of layer 1 (/b, /d) is never visited; /c keeps cumulative 0 and min -1
    # /a 10/10, /c 0/-1, /b 3/3 (layer 2 only, seen once)
    # sum(min) = 10 - 1 + 3 = 12; sum(cumulative) = 10 + 0 + 3 = 13
    assert m.efficiency_ratio == 12 / 13
    assert m.inefficiencies == ()
    assert m.layer_sizes == (10, 7, 3)


def test_layer_zero_is_stacked_twice() -> None:
    # layer 0 holds /-x and its own whiteout (dive keeps both nodes: "-x" and ".wh.-x");
    # "-" sorts before ".", so "-x" comes first in every walk of layer 0
    m = dive_metrics(image([f("/-x", 5), wh("/-x")], [wh("/-x"), f("/y", 2)]))
    # layer 0: /-x 5; then /.wh.-x: the stack below layer 0 is a copy of layer 0, which has
    # /-x (a file) -> 0 bytes. /-x: cumulative 5, min 0, seen twice
    # the stack below layer 1 is copy(layer 0) + layer 0: stacking layer 0 adds /-x again and
    # then applies its whiteout, so /-x is gone; layer 1's /.wh.-x target is missing -> the walk
    # of layer 1 stops before /y
    # sum(min) = 0; sum(cumulative) = 5
    assert m.efficiency_ratio == 0.0
    assert m.inefficiencies == (DiveInefficiency("/-x", 2, 5),)
    assert m.user_wasted_ratio == 5 / 2


def test_whiteout_and_file_of_one_name_in_layer_zero() -> None:
    m = dive_metrics(image([f("/x", 5), wh("/x")], [wh("/x"), f("/y", 2)]))
    # layer 0 in name order ".wh.x" < "x": /x -> 0 (a file in the copy of layer 0), then /x 5
    # stacking layer 0 removes /x and then adds it back, so layer 1 finds /x (a file) -> 0
    # /x: cumulative 0 + 5 + 0 = 5, min 0, seen 3 times; /y 2
    # sum(min) = 0 + 2; sum(cumulative) = 5 + 2
    assert m.efficiency_ratio == 2 / 7
    assert m.inefficiencies == (DiveInefficiency("/x", 3, 5),)


def test_opaque_dir_hides_nothing_and_creates_its_directory() -> None:
    layers = [
        [d("/o"), f("/o/f", 10), d("/p")],
        [d("/o"), opq("/o"), f("/o/g", 3), opq("/p")],
        [wh("/o")],
        [d("/o"), f("/o/f", 10)],
    ]
    m = dive_metrics(image(*layers))
    # L0 leaves: /o/f 10, /p 0 (empty dir)
    # L1 leaves: /o/g 3, /p 0 (the opaque marker only creates /p, still a leaf)
    # L2: /o is a dir below holding /o/f 10 and /o/g 3 (opaque hid nothing) -> 13
    # L3: /o/f 10
    # /o/f 20 (min 10, x2), /p 0 (min 0, x2), /o/g 3, /o 13
    # sum(min) = 10 + 0 + 3 + 13 = 26; sum(cumulative) = 20 + 0 + 3 + 13 = 36
    assert m.efficiency_ratio == 26 / 36
    # /p hits its second sighting in L1 before /o/f does in L3; sizes 0 < 20, largest first
    assert m.inefficiencies == (DiveInefficiency("/o/f", 2, 20), DiveInefficiency("/p", 2, 0))
    assert m.wasted_bytes == 20


def test_dir_with_children_is_not_a_path_of_that_layer() -> None:
    m = dive_metrics(image([d("/d")], [d("/d"), f("/d/x", 4)], [d("/d")]))
    # L0: /d leaf (0). L1: /d has a child -> only /d/x 4. L2: /d leaf (0)
    # /d seen twice with 0 bytes; sum(min) = 0 + 4 = sum(cumulative)
    assert m.efficiency_ratio == 1.0
    assert m.inefficiencies == (DiveInefficiency("/d", 2, 0),)


def test_hardlinks_and_metadata_rewrites() -> None:
    m = dive_metrics(image([f("/a", 100)], [hl("/b", "/a"), f("/a", 100)]))
    # a hardlink is 0 bytes (tar header size); rewriting /a with the same bytes still counts
    # /a 200 (min 100, x2), /b 0; sum(min) = 100; sum(cumulative) = 200
    assert m.efficiency_ratio == 0.5
    assert m.wasted_bytes == 200
    assert m.user_wasted_ratio == 200 / 100


def test_ties_keep_go_order_for_small_lists() -> None:
    # fewer than 13 inefficient paths: Go's sort.Sort is an insertion sort (stable); dive then
    # reverses, so equal sizes come out in reverse order of their second sighting
    layers = [f("/a", 1), f("/b", 1), f("/c", 1)], [f("/c", 1)], [f("/a", 1), f("/b", 1)]
    m = dive_metrics(image(*layers))
    # second sightings: /c (L1), then /a, /b (L2) -> sorted [c, a, b] -> reversed [b, a, c]
    assert [i.path for i in m.inefficiencies] == ["/b", "/a", "/c"]
    assert m.wasted_bytes == 6


def test_empty_image() -> None:
    assert dive_metrics(image()) == DiveMetrics(1.0, 0, None, 0, 0, (), ())


def test_large_image_with_many_directory_whiteouts() -> None:
    # 2,000 dirs x 60 files = 120,000 files in layer 0; layer 1 deletes every dir and adds
    # 13,000 files elsewhere: 135,000 paths and 2,000 directory whiteouts
    base: list[FileEntry] = []
    for i in range(2000):
        base.append(d(f"/data/d{i:04}"))
        base.extend(f(f"/data/d{i:04}/f{j:02}", 10) for j in range(60))
    upper = [wh(f"/data/d{i:04}") for i in range(2000)]
    upper.extend(f(f"/new/n{i:05}", 1) for i in range(13000))
    img = image([d("/data"), *base], [d("/new"), *upper])
    m = dive_metrics(img)
    # every dir whiteout counts its 60 x 10 = 600 bytes once; nothing is seen twice
    assert m.efficiency_ratio == 1.0
    assert m.inefficiencies == ()
    assert m.size_bytes == 120_000 * 10 + 13_000
    assert m.wasted_bytes == 0


@pytest.mark.parametrize("n", [13, 50, 200])
def test_large_tied_lists_are_sorted_by_size(n: int) -> None:
    # more than 12 inefficient paths takes Go's pdqsort; whatever the tie order, sizes descend
    entries = [f(f"/f{i:03}", i % 4) for i in range(n)]
    m = dive_metrics(image(entries, entries))
    sizes = [i.cumulative_bytes for i in m.inefficiencies]
    assert sizes == sorted(sizes, reverse=True)
    assert sorted(i.path for i in m.inefficiencies) == sorted(e.path for e in entries)


@pytest.mark.parametrize("seed", range(20))
def test_go_sort_sorts_and_keeps_pairs(seed: int) -> None:
    # the exact tie order is checked against dive itself in test_dive_oracle.py
    rng = random.Random(seed)
    n = rng.choice([0, 1, 5, 12, 13, 49, 50, 51, 300, 2000])
    keys = [rng.randint(0, rng.choice([1, 3, 10, 10**6])) for _ in range(n)]
    if seed % 5 == 0:
        keys.sort(reverse=seed % 10 == 0)  # sorted and reversed runs take other branches
    values = list(enumerate(keys))
    go_sort(keys, values)
    assert keys == sorted(keys)
    assert [k for _, k in values] == keys
    assert sorted(i for i, _ in values) == list(range(n))


def _random_layer(rng: random.Random, names: list[str], marks: str) -> list[FileEntry]:
    """Up to 40 entries over a few names, 1-3 deep; ``marks``: none, opaque or all (whiteouts)."""
    entries: list[FileEntry] = [d("/")] if rng.random() < 0.3 else []
    for _ in range(rng.randint(0, 40)):
        path = "/" + "/".join(rng.choice(names) for _ in range(rng.randint(1, 3)))
        roll = rng.random()
        if marks == "all" and roll < 0.15:
            entries.append(wh(path))
        elif marks != "none" and roll < 0.2:
            entries.append(opq(path))
        elif roll < 0.4:
            entries.append(d(path))
        else:
            entries.append(f(path, rng.randint(0, 50)))
    return entries


@pytest.mark.parametrize("seed", range(300))
def test_short_first_layer_equals_the_exhaustive_walk(seed: int) -> None:
    # layer 0 without whiteouts takes a short way (its tree is the stack, only its nodes at or
    # below what later whiteouts look up, or no tree at all when no later layer whites anything
    # out; its leaves are counted without dive's ordered visit);
    # every figure and the tie order must be the same
    rng = random.Random(seed)
    names = ["a", "b", "c", "-x", "é", "B"]
    layers = [_random_layer(rng, names, "opaque" if seed % 2 else "none")]
    layers += [
        _random_layer(rng, names, "all" if seed % 3 else "none") for _ in range(rng.randint(0, 4))
    ]
    img = image(*layers)
    assert dive_metrics(img) == dive_metrics(img, exhaustive=True)
