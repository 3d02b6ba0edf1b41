"""Layer alignment: shared prefix by chain ID, then matching by instruction and paths."""

from __future__ import annotations

from diffkit import L, copy, d, f, image, run

from layerscope.analysis.align import (
    MATCH_THRESHOLD,
    PairStatus,
    align_layers,
    layer_similarity,
    normalize_instruction,
)
from layerscope.model import EMPTY_TAR_DIFF_ID

BASE = L("/bin/sh -c #(nop) ADD file:" + "a" * 64 + " in / ", f("/bin/sh", 100), f("/etc/os", 5))
APP = L(copy("v1", "/app/"), d("/app"), f("/app/main.py", 20), f("/app/lib.py", 30))
BUILD = L(run("make"), f("/app/out.bin", 40))
TEST = L(run("make test"), f("/app/test.log", 8))


def statuses(old, new):  # type: ignore[no-untyped-def]
    return [(p.old_index, p.new_index, p.status) for p in align_layers(old, new).pairs]


def test_identical_images_share_every_layer() -> None:
    a = image(BASE, APP, BUILD)
    alignment = align_layers(a, a)
    assert alignment.shared_count == 3
    assert [p.status for p in alignment.pairs] == [PairStatus.SHARED] * 3


def test_layer_inserted_mid_stack_keeps_later_pairs_aligned() -> None:
    old = image(BASE, APP, BUILD, TEST)
    # The inserted RUN changes the chain IDs of everything above it; BUILD and TEST are rebuilt
    # with new mtimes (other diff_ids) but keep their instructions and paths.
    rebuilt = L(run("make"), f("/app/out.bin", 40, mtime=9))
    retest = L(run("make test"), f("/app/test.log", 8, mtime=9))
    new = image(BASE, APP, L(run("apk add curl"), f("/usr/bin/curl", 500)), rebuilt, retest)
    assert statuses(old, new) == [
        (0, 0, PairStatus.SHARED),
        (1, 1, PairStatus.SHARED),
        (None, 2, PairStatus.ADDED),
        (2, 3, PairStatus.CHANGED),
        (3, 4, PairStatus.CHANGED),
    ]
    assert align_layers(old, new).shared_count == 2


def test_unchanged_layer_after_an_insert_is_identical() -> None:
    old = image(BASE, APP, BUILD)
    new = image(BASE, L(run("apk add curl"), f("/usr/bin/curl", 500)), APP, BUILD)
    assert statuses(old, new) == [
        (0, 0, PairStatus.SHARED),
        (None, 1, PairStatus.ADDED),
        (1, 2, PairStatus.IDENTICAL),
        (2, 3, PairStatus.IDENTICAL),
    ]


def test_layer_removed_mid_stack() -> None:
    old = image(BASE, APP, BUILD, TEST)
    new = image(BASE, APP, TEST)
    assert statuses(old, new) == [
        (0, 0, PairStatus.SHARED),
        (1, 1, PairStatus.SHARED),
        (2, None, PairStatus.REMOVED),
        (3, 2, PairStatus.IDENTICAL),
    ]


def test_copy_with_changed_content_is_the_same_instruction() -> None:
    old = image(BASE, APP, BUILD)
    app2 = L(copy("v2", "/app/"), d("/app"), f("/app/main.py", 25), f("/app/lib.py", 30))
    new = image(BASE, app2, BUILD)
    alignment = align_layers(old, new)
    assert [(p.old_index, p.new_index, p.status) for p in alignment.pairs] == [
        (0, 0, PairStatus.SHARED),
        (1, 1, PairStatus.CHANGED),
        (2, 2, PairStatus.IDENTICAL),
    ]
    assert alignment.pairs[1].same_instruction
    assert normalize_instruction(copy("v1", "/app/")) == "COPY file:* in /app/"


def test_unrelated_layers_are_added_and_removed_not_paired() -> None:
    old = image(BASE, L(run("make"), f("/a", 1), f("/b", 1)))
    new = image(BASE, L(run("curl x"), f("/c", 1), f("/d", 1)))
    assert statuses(old, new) == [
        (0, 0, PairStatus.SHARED),
        (1, None, PairStatus.REMOVED),
        (None, 1, PairStatus.ADDED),
    ]


def test_similarity_scores() -> None:
    a = image(L(run("pip install a==1 b==2"), f("/s/a.py", 1), f("/s/b.py", 1), f("/s/c.py", 1)))
    b = image(L(run("pip install a==1 b==3"), f("/s/a.py", 2), f("/s/b.py", 1), f("/s/d.py", 1)))
    # instruction: same keyword, words {RUN pip install a==1 b==2} vs {... b==3}: 4 common of 6
    # -> 0.5 * 4/6; paths: {a, b, c} vs {a, b, d}: 2 of 4 -> 0.5. Score = 0.5*(1/3) + 0.5*0.5.
    assert abs(layer_similarity(a.layers[0], b.layers[0]) - (0.5 / 3 + 0.25)) < 1e-9
    # Identical diff_id scores 1.0, except the empty tar: it says nothing about the instruction.
    empty_a = image(L(run("true"), diff_id=EMPTY_TAR_DIFF_ID))
    empty_b = image(L("/bin/sh -c #(nop) WORKDIR /srv", diff_id=EMPTY_TAR_DIFF_ID))
    # instruction 0 (RUN vs WORKDIR), paths: both empty -> 1.0 -> 0.5
    assert layer_similarity(empty_a.layers[0], empty_b.layers[0]) == 0.5
    assert MATCH_THRESHOLD <= 0.5
