"""The layer cache's trust rule for local archives (docs/architecture.md, "The layer cache and
trust"): a walk that was not yet hashed to its diff_id is cached under the archive file's
identity only, and no other file, and not the same file once it changed, is served from it.

A lasting command (the TUI) hashes every local layer in the background; a one-shot command
hashes no big one (``STOPPABLE_CHECK_BYTES`` and up), compressed or not."""

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
        # every work runs, whatever fails first: the layers are walked on several threads, so
        # the order their works arrive in is not fixed
        errors: list[Exception] = []
        for work in self.works:
            stop = getattr(work, "stop", None)
            if stop_first and stop is not None:
                stop()
            try:
                work()
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the others ran
                errors.append(exc)
        self.works.clear()
        if errors:
            raise errors[0]


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


def _first_read(
    image: Path, cache: LayerCache, *, stop_first: bool, lasting: bool = True
) -> list[int]:
    """A cold load whose background checks run after it: stopped first, or to the end."""
    deferred = _Deferred()
    counts = _load(image, cache, deferred, lasting=lasting)
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


def _load(path: Path, cache: LayerCache, deferred: _Deferred, *, lasting: bool = True) -> list[int]:
    image = load_path(path, LoadContext(index=cache, defer=deferred, lasting=lasting))
    return [len(layer.entries) for layer in image.layers]


def _liar(image: Path, tmp_path: Path) -> Path:
    """A copy of ``image`` whose second layer has the same entries but another sha256 (the
    last byte of its end-of-archive blocks changed)."""
    store = open_tar_store(image)
    try:
        member = store._member(select_image(store, None, None).layers[1].path)
    finally:
        store.close()
    raw = bytearray(image.read_bytes())
    assert raw[member.offset + member.size - 1] == 0
    raw[member.offset + member.size - 1] = 1
    liar = tmp_path / "liar.tar"
    liar.write_bytes(bytes(raw))
    return liar


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


@pytest.mark.parametrize("lasting", [True, False], ids=["lasting", "one-shot"])
def test_small_layers_are_always_verified_before_the_command_ends(
    image: Path, tmp_path: Path, lasting: bool
) -> None:
    cache = LayerCache(tmp_path / "cache.sqlite3")
    deferred = _Deferred()
    _load(image, cache, deferred, lasting=lasting)
    deferred.run(stop_first=True)  # stop is ignored below STOPPABLE_CHECK_BYTES
    for diff_id, _ in _keys(image):
        assert cache.get(diff_id) is not None


def test_a_lying_archive_is_never_cached_under_its_claimed_diff_id(
    image: Path, tmp_path: Path
) -> None:
    keys = _keys(image)
    liar = _liar(image, tmp_path)
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
    liar = _liar(image, tmp_path)
    deferred = _Deferred()
    _load(liar, cache, deferred)
    with pytest.raises(DigestMismatchError):
        deferred.run(stop_first=False)
    diff_id = keys[1][0]
    assert cache.get(diff_id) is None
    local = _keys(liar)[1][1]
    assert local is not None and cache.get(local) is None
    assert cache.get(_keys(liar)[0][0]) is not None  # the honest layer is cached


def test_a_one_shot_command_hashes_no_big_local_layer_and_keeps_its_walk_for_this_file(
    image: Path, tmp_path: Path, cache: LayerCache
) -> None:
    # the liar's second layer does not hash to its diff_id: a one-shot read never notices
    # (no hash), and still trusts nothing of it beyond this file
    liar = _liar(image, tmp_path)
    counts = _first_read(liar, cache, stop_first=False, lasting=False)
    for (diff_id, local), count in zip(_keys(liar), counts, strict=True):
        assert cache.get(diff_id) is None
        assert local is not None
        cached = cache.get(local)
        assert cached is not None and len(cached.entries) == count
        cache.put(local, LayerContents((), 0, 0))  # mark it, to see who is served from it
    again = _Deferred()
    assert _load(liar, cache, again, lasting=False) == [0, 0]  # the same file hits them
    assert again.works == []
    copy = tmp_path / "copy.tar"
    shutil.copyfile(liar, copy)
    assert _load(copy, cache, _Deferred(), lasting=False) == counts  # a copy does not


@pytest.mark.parametrize("lasting", [True, False], ids=["lasting", "one-shot"])
def test_a_big_compressed_local_layer_is_hashed_only_by_a_lasting_command(
    tmp_path: Path, cache: LayerCache, lasting: bool
) -> None:
    path = tmp_path / "img.oci.tar"
    write_image(chown_rewrite_spec(files=12), path, "oci-tar")  # gzip layers
    deferred = _Deferred()
    counts = _load(path, cache, deferred, lasting=lasting)
    deferred.run(stop_first=False)
    for (diff_id, local), count in zip(_keys(path), counts, strict=True):
        assert local is not None
        # lasting: hashed while it was walked, cached for every image; one-shot: this file only
        trusted, same_file = (diff_id, local) if lasting else (local, diff_id)
        cached = cache.get(trusted)
        assert cached is not None and len(cached.entries) == count
        assert cache.get(same_file) is None
