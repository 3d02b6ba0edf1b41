"""layerscope.testing.memory: the in-memory builders the unit tests stand on."""

from __future__ import annotations

from layerscope.model import EntryKind, HistoryEntry
from layerscope.testing.memory import (
    dir_entry,
    file_entry,
    hardlink_entry,
    layer_contents,
    memory_image,
    memory_layer,
    realistic_entries,
    whiteout_entry,
)


def test_a_layer_is_as_big_as_its_regular_files() -> None:
    layer = memory_layer(
        3, [dir_entry("/a"), file_entry("/a/x", 10), hardlink_entry("/a/y", "/a/x")]
    )
    assert layer.size_bytes == 10
    assert layer.diff_id == "sha256:" + "0" * 63 + "3"
    assert layer.created_by == "step 3"
    assert memory_layer(0, [], created_by="").created_by == ""


def test_an_image_stacks_entry_lists_and_layers_in_order() -> None:
    kept = memory_layer(1, [whiteout_entry("/a/x")], created_by="RUN rm /a/x")
    image = memory_image([file_entry("/a/x", 10)], kept, labels=[("k", "v")])
    assert [layer.index for layer in image.layers] == [0, 1]
    assert image.layers[1] is kept
    assert image.size_bytes == 10
    assert [h.created_by for h in image.history] == ["step 0", "RUN rm /a/x"]
    assert image.config.labels == (("k", "v"),)


def test_a_given_history_keeps_empty_layer_entries() -> None:
    history = [HistoryEntry("ADD rootfs"), HistoryEntry("CMD sh", empty_layer=True)]
    image = memory_image(memory_layer(0, [], history=history[0]), history=history)
    assert image.history == tuple(history)
    assert image.layers[0].history == history[0]


def test_realistic_entries_are_reproducible_and_mixed() -> None:
    entries = realistic_entries(3000, seed=5)
    assert entries == realistic_entries(3000, seed=5) != realistic_entries(3000, seed=6)
    kinds = {e.kind for e in entries}
    assert {EntryKind.FILE, EntryKind.DIR, EntryKind.SYMLINK, EntryKind.WHITEOUT} <= kinds
    contents = layer_contents(entries)
    assert contents.size_bytes == sum(e.size_bytes for e in entries if e.kind is EntryKind.FILE)
