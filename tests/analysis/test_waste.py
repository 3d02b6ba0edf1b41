"""find_waste: reclaimable bytes, reasons, writer and hider layers (numbers worked by hand)."""

from __future__ import annotations

from layerscope.analysis.waste import WasteReason, find_waste
from layerscope.model import EntryKind
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import hardlink_entry as hl
from layerscope.testing.memory import memory_image as image
from layerscope.testing.memory import opaque_entry as opq
from layerscope.testing.memory import symlink_entry as sym
from layerscope.testing.memory import whiteout_entry as wh


def test_dive_684_chown_rewrite_is_metadata_waste() -> None:
    # Layer 0: 100 files of 10,000 bytes owned by uid 0; layer 1 rewrites every one with
    # uid 1000 and the same content. Hidden: the 100 layer-0 copies = 100 * 10,000 = 1,000,000.
    # Image size = 2 layers * 1,000,000 = 2,000,000, so the ratio is 0.5.
    files = [(f"/app/f{i}", f"content-{i}") for i in range(100)]
    img = image(
        [f(p, 10_000, content=c, uid=0) for p, c in files],
        [f(p, 10_000, content=c, uid=1000) for p, c in files],
    )
    report = find_waste(img)
    assert report.reclaimable_bytes == 1_000_000
    assert report.metadata_rewrite_bytes == 1_000_000
    assert report.overwritten_bytes == report.deleted_bytes == report.identical_rewrite_bytes == 0
    assert report.reclaimable_ratio == 0.5
    assert report.final_fs_bytes == 1_000_000
    assert len(report.items) == 100
    assert {(i.reason, i.writer_layer_index, i.hider_layer_index) for i in report.items} == {
        (WasteReason.METADATA_REWRITE, 0, 1)
    }
    assert {i.writer_created_by for i in report.items} == {"step 0"}
    assert {i.hider_created_by for i in report.items} == {"step 1"}
    assert report.reclaimable_by_layer == (1_000_000, 0)
    assert report.hidden_by_layer == (0, 1_000_000)


def test_file_overwritten_twice() -> None:
    # /f: 100 bytes (L0), 200 bytes (L1), 300 bytes (L2), each with new content.
    # Hidden: 100 (written 0, hidden 1) + 200 (written 1, hidden 2) = 300; kept: 300.
    # Image = 100 + 200 + 300 = 600; ratio = 300 / 600 = 0.5.
    img = image(
        [f("/f", 100, content="a")], [f("/f", 200, content="b")], [f("/f", 300, content="c")]
    )
    report = find_waste(img)
    assert report.reclaimable_bytes == 300
    assert report.overwritten_bytes == 300
    assert report.final_fs_bytes == 300
    assert report.reclaimable_ratio == 0.5
    assert [(i.size_bytes, i.writer_layer_index, i.hider_layer_index) for i in report.items] == [
        (200, 1, 2),
        (100, 0, 1),
    ]
    assert report.reclaimable_by_layer == (100, 200, 0)


def test_written_deleted_rewritten_is_deleted_waste() -> None:
    # L0 writes /f (100), L1 whites it out, L2 writes the same content again.
    # The L0 copy was hidden by L1's whiteout: 100 deleted. The L2 copy is kept.
    img = image([f("/f", 100, content="same")], [wh("/f")], [f("/f", 100, content="same")])
    report = find_waste(img)
    assert report.reclaimable_bytes == 100
    assert report.deleted_bytes == 100
    (item,) = report.items
    assert (item.path, item.reason, item.writer_layer_index, item.hider_layer_index) == (
        "/f",
        WasteReason.DELETED,
        0,
        1,
    )
    assert report.final_fs_bytes == 100


def test_identical_rewrite_only_mtime_differs() -> None:
    img = image([f("/f", 50, content="x", mtime=1.0)], [f("/f", 50, content="x", mtime=2.0)])
    report = find_waste(img)
    assert report.identical_rewrite_bytes == 50
    assert report.reclaimable_bytes == 50


def test_mode_change_is_metadata_rewrite_and_new_content_is_overwritten() -> None:
    # /a: same content, mode 644 -> 755 (metadata, 10 bytes); /b: new content (overwritten, 20).
    img = image(
        [f("/a", 10, content="a", mode=0o644), f("/b", 20, content="b1")],
        [f("/a", 10, content="a", mode=0o755), f("/b", 20, content="b2")],
    )
    report = find_waste(img)
    assert report.metadata_rewrite_bytes == 10
    assert report.overwritten_bytes == 20
    assert report.reclaimable_bytes == 30


def test_whiteout_of_directory_counts_every_file_below() -> None:
    # L0: /cache/a 30 + /cache/sub/b 70 + /keep 5; L1 whites out /cache: 30 + 70 = 100 deleted.
    img = image([f("/cache/a", 30), f("/cache/sub/b", 70), f("/keep", 5)], [wh("/cache")])
    report = find_waste(img)
    assert report.deleted_bytes == 100
    assert report.final_fs_bytes == 5
    assert report.reclaimable_ratio == 100 / 105


def test_opaque_dir_with_same_layer_children_before_and_after_marker() -> None:
    # L0: /d/a 30, /d/b 70. L1: /d/b (5 bytes, new content, listed before the marker), the
    # opaque marker for /d, then /d/c (1 byte).
    # /d/a (30) was hidden by the opaque dir: deleted. /d/b's L0 copy (70) was hidden but L1
    # wrote /d/b again, so L1 replaced it with other content: overwritten. Total 100; kept 5 + 1.
    img = image(
        [d("/d"), f("/d/a", 30), f("/d/b", 70, content="old")],
        [f("/d/b", 5, content="new"), opq("/d"), f("/d/c", 1)],
    )
    report = find_waste(img)
    assert report.deleted_bytes == 30
    assert report.overwritten_bytes == 70
    assert report.reclaimable_bytes == 100
    assert report.final_fs_bytes == 6


def test_file_replacing_dir_deletes_its_subtree() -> None:
    # L0: /x/a 40, /x/b 60; L1 writes /x as a 7-byte file: 40 + 60 = 100 deleted.
    img = image([f("/x/a", 40), f("/x/b", 60)], [f("/x", 7)])
    report = find_waste(img)
    assert report.deleted_bytes == 100
    assert {(i.path, i.hider_layer_index) for i in report.items} == {("/x/a", 1), ("/x/b", 1)}
    assert report.final_fs_bytes == 7


def test_dir_replacing_file_overwrites_it() -> None:
    img = image([f("/x", 10)], [d("/x"), f("/x/y", 3)])
    report = find_waste(img)
    assert report.overwritten_bytes == 10
    assert report.final_fs_bytes == 3


def test_same_layer_whiteout_hides_nothing() -> None:
    img = image([f("/f", 10), wh("/f")])
    report = find_waste(img)
    assert report.reclaimable_bytes == 0
    assert report.final_fs_bytes == 10


def test_hardlinked_content_still_visible_is_not_waste() -> None:
    # L0: /a (100 bytes) and /b hardlinked to it (0 bytes in the tar). L1 deletes /a.
    # /b still shows the 100 bytes, so nothing is reclaimable and the final fs holds 100.
    img = image([f("/a", 100), hl("/b", "/a")], [wh("/a")])
    report = find_waste(img)
    assert report.reclaimable_bytes == 0
    assert report.final_fs_bytes == 100


def test_hardlink_and_target_both_deleted_counts_bytes_once() -> None:
    # As above, then L2 deletes /b too: the 100 bytes are now hidden, counted once (the
    # hardlink entry is 0 bytes). Reason decided by L1, which hid /a: deleted.
    img = image([f("/a", 100), hl("/b", "/a")], [wh("/a")], [wh("/b")])
    report = find_waste(img)
    assert report.reclaimable_bytes == 100
    (item,) = report.items
    assert (item.path, item.writer_layer_index, item.hider_layer_index) == ("/a", 0, 1)
    assert report.final_fs_bytes == 0


def test_hardlink_from_another_layer_does_not_keep_content() -> None:
    # A hardlink in L1 to /a written by L0 keeps nothing: hardlinks refer to the same tar.
    img = image([f("/a", 100)], [hl("/b", "/a"), wh("/a")])
    report = find_waste(img)
    assert report.reclaimable_bytes == 100


def test_symlinks_and_dirs_are_zero_bytes() -> None:
    img = image([sym("/l", "x"), d("/d")], [sym("/l", "y"), d("/d", mode=0o700)])
    report = find_waste(img)
    assert report.reclaimable_bytes == 0
    assert report.items == ()


def test_items_sorted_by_bytes_descending() -> None:
    img = image(
        [f("/small", 1), f("/big", 1000), f("/mid", 50)], [wh("/small"), wh("/big"), wh("/mid")]
    )
    assert [i.path for i in find_waste(img).items] == ["/big", "/mid", "/small"]


def test_empty_image_ratio_is_none() -> None:
    report = find_waste(image([d("/d")]))
    assert report.reclaimable_bytes == 0
    assert report.reclaimable_ratio is None
    assert find_waste(image()).reclaimable_ratio is None


def test_reclaimable_plus_visible_equals_all_stored_file_bytes() -> None:
    # Every stored file copy is either visible, reachable through a visible hardlink, or waste.
    layers = [
        [f("/a", 11), f("/b/c", 13), f("/b/d", 17), hl("/h", "/a"), f("/e", 19)],
        [wh("/a"), f("/b", 23), f("/e", 19, uid=5)],
        [opq("/"), f("/z", 29)],
        [f("/z", 31, content="other"), f("/y", 37), f("/y2", 41)],
    ]
    img = image(*layers)
    report = find_waste(img)
    stored = sum(e.size_bytes for entries in layers for e in entries if e.kind is EntryKind.FILE)
    # 11+13+17+19 + 23+19 + 29 + 31+37+41 = 240
    assert stored == 240 == img.size_bytes
    assert report.reclaimable_bytes + report.final_fs_bytes == 240
    # Only /z (31), /y (37), /y2 (41) survive the opaque root: 109 visible, 131 reclaimable.
    assert report.final_fs_bytes == 109
    assert report.reclaimable_bytes == 131
    # Reasons: /a 11 is still linked by /h when L1 deletes it, but L2's opaque root hides /h,
    # so /a is waste after all (deleted by L1); /b/c 13 and /b/d 17 deleted by L1 (parent
    # replaced); /e 19 metadata rewrite by L1; /b 23 and /e 19 (L1) and /h hidden by L2
    # (deleted); /z 29 overwritten by L3. deleted = 11+13+17+23+19 = 83, metadata = 19,
    # overwritten = 29; 83 + 19 + 29 = 131.
    assert report.deleted_bytes == 83
    assert report.metadata_rewrite_bytes == 19
    assert report.overwritten_bytes == 29


def test_scale_2k_dir_whiteouts_over_135k_paths() -> None:
    # 2,500 top dirs, each: the dir, /top (10 bytes), 2 subdirs of 25 files of 10 bytes:
    # 54 paths and 51 files = 510 bytes per top dir; 135,000 paths, 1,275,000 bytes.
    # Layer 1 whites out 2,000 top dirs: 2,000 * 510 = 1,020,000 deleted; 500 * 510 = 255,000 kept.
    entries = []
    for i in range(2500):
        entries.append(d(f"/d{i}"))
        entries.append(f(f"/d{i}/top", 10))
        for j in range(2):
            entries.append(d(f"/d{i}/s{j}"))
            entries.extend(f(f"/d{i}/s{j}/f{k}", 10) for k in range(25))
    img = image(entries, [wh(f"/d{i}") for i in range(2000)])
    report = find_waste(img)
    assert report.deleted_bytes == report.reclaimable_bytes == 1_020_000
    assert report.final_fs_bytes == 255_000
    assert len(report.items) == 2000 * 51
    assert report.reclaimable_ratio == 1_020_000 / 1_275_000
