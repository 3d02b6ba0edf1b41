"""The layer cache's trust rule for local archives (docs/architecture.md, "The layer cache and
trust"): a walk that was not yet hashed to its diff_id is cached under the archive file's
identity only, and no other file, and not the same file once it changed, is served from it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from layerscope.errors import DigestMismatchError
from layerscope.model import LayerContents
from layerscope.sources import archive
from layerscope.sources.archive import load_path, local_key
from layerscope.sources.blobs import open_tar_store
from layerscope.sources.context import LoadContext
from layerscope.sources.manifests import select_image
from layerscope.store import LayerCache
from layerscope.testing import write_image
from layerscope.testing.specs import chown_rewrite_spec


class _Deferred:
    """Collects background work so the test decides when (and whether) it runs."""

    def __init__(self) -> None:
        self.works: list[Callable[[], None]] = []

    def __call__(self, work: Callable[[], None]) -> None:
        self.works.append(work)

    def run(self, *, stop_first: bool) -> None:
        for work in self.works:
            if stop_first:
                work.stop()  # type: ignore[attr-defined]
            work()
        self.works.clear()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "img.tar"
    write_image(chown_rewrite_spec(files=12), path, "docker-25")
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LayerCache:
    """A layer cache, with every layer's check stoppable (the test images are small)."""
    monkeypatch.setattr(archive, "STOPPABLE_CHECK_BYTES", 0)
    return LayerCache(tmp_path / "cache.sqlite3")


def _first_read(image: Path, cache: LayerCache, *, stop_first: bool) -> list[int]:
    """A cold load whose background checks run after it: stopped first, or to the end."""
    deferred = _Deferred()
    counts = _load(image, cache, deferred)
    assert len(deferred.works) == len(counts) == 2
    deferred.run(stop_first=stop_first)
    return counts


def _keys(path: Path) -> list[tuple[str, str | None]]:
    """(diff_id, local key) of every layer, computed from the archive as the loader sees it."""
    store = open_tar_store(path)
    try:
        chosen = select_image(store, None, None)
        image = load_path(path)
        return [
            (layer.diff_id, local_key(store, ref.path, layer.diff_id))
            for layer, ref in zip(image.layers, chosen.layers, strict=True)
        ]
    finally:
        store.close()


def _load(path: Path, cache: LayerCache, deferred: _Deferred) -> list[int]:
    image = load_path(path, LoadContext(index=cache, defer=deferred))
    return [len(layer.entries) for layer in image.layers]


def test_an_unfinished_check_caches_for_the_same_unchanged_file_only(
    image: Path, tmp_path: Path, cache: LayerCache
) -> None:
    counts = _first_read(image, cache, stop_first=True)  # the command ended before the sha256

    keys = _keys(image)
    for (diff_id, local), count in zip(keys, counts, strict=True):
        assert local is not None and local != diff_id
        assert cache.get(diff_id) is None  # never trusted by another image
        cached = cache.get(local)
        assert cached is not None and len(cached.entries) == count
        # mark the same-file entries, to see below who is served from them
        cache.put(local, LayerContents((), 0, 0))

    assert _load(image, cache, _Deferred()) == [0, 0]  # the same file hits them
    copy = tmp_path / "copy.tar"
    shutil.copyfile(image, copy)
    assert _load(copy, cache, _Deferred()) == counts  # another file (same bytes) does not
    os.utime(image, ns=(1, 1))
    assert _load(image, cache, _Deferred()) == counts  # nor does the same file once changed


def test_a_finished_check_caches_under_the_diff_id_for_every_image(
    image: Path, cache: LayerCache
) -> None:
    counts = _first_read(image, cache, stop_first=False)
    for (diff_id, local), count in zip(_keys(image), counts, strict=True):
        cached = cache.get(diff_id)
        assert cached is not None and len(cached.entries) == count
        assert local is not None and cache.get(local) is None


def test_a_verified_read_of_the_same_file_caches_it_for_every_image(
    image: Path, cache: LayerCache
) -> None:
    counts = _first_read(image, cache, stop_first=True)
    again = _Deferred()
    assert _load(image, cache, again) == counts  # served from the same-file entries...
    assert again.works == []  # ...without hashing the layers again
    verified = load_path(image, LoadContext(index=cache, verify=True))  # --verify
    for (diff_id, _), layer in zip(_keys(image), verified.layers, strict=True):
        cached = cache.get(diff_id)
        assert cached is not None and cached.entries == layer.entries


def test_small_layers_are_always_verified_before_the_command_ends(
    image: Path, tmp_path: Path
) -> None:
    cache = LayerCache(tmp_path / "cache.sqlite3")
    deferred = _Deferred()
    _load(image, cache, deferred)
    deferred.run(stop_first=True)  # stop is ignored below STOPPABLE_CHECK_BYTES
    for diff_id, _ in _keys(image):
        assert cache.get(diff_id) is not None


def test_a_lying_archive_is_never_cached_under_its_claimed_diff_id(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = _keys(image)
    store = open_tar_store(image)
    try:
        layer_path = select_image(store, None, None).layers[1].path
        member = store._member(layer_path)
    finally:
        store.close()
    raw = bytearray(image.read_bytes())
    # the last byte of the layer's end-of-archive blocks: same entries, another sha256
    assert raw[member.offset + member.size - 1] == 0
    raw[member.offset + member.size - 1] = 1
    lie = bytes(raw)
    liar = tmp_path / "liar.tar"
    liar.write_bytes(lie)
    cache = LayerCache(tmp_path / "cache.sqlite3")
    deferred = _Deferred()
    _load(liar, cache, deferred)
    with pytest.raises(DigestMismatchError):
        deferred.run(stop_first=False)
    assert cache.get(keys[1][0]) is None


def test_a_lying_archive_whose_walk_was_cached_early_is_dropped_when_its_check_fails(
    image: Path, tmp_path: Path, cache: LayerCache
) -> None:
    # a stoppable check caches the walk under the local key as soon as the walk is done; the
    # check then runs to the end here and finds another hash: nothing of the layer stays cached
    keys = _keys(image)
    store = open_tar_store(image)
    try:
        member = store._member(select_image(store, None, None).layers[1].path)
    finally:
        store.close()
    raw = bytearray(image.read_bytes())
    raw[member.offset + member.size - 1] = 1  # same entries, another sha256
    liar = tmp_path / "liar.tar"
    liar.write_bytes(bytes(raw))
    deferred = _Deferred()
    _load(liar, cache, deferred)
    with pytest.raises(DigestMismatchError):
        deferred.run(stop_first=False)
    diff_id = keys[1][0]
    assert cache.get(diff_id) is None
    local = _keys(liar)[1][1]
    assert local is not None and cache.get(local) is None
    assert cache.get(_keys(liar)[0][0]) is not None  # the honest layer is cached
