"""LayerCache: the LayerIndex protocol, digest lookups, stale rows, info and prune."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from storekit import contents_of, diff_id, realistic_entries

from layerscope.model import Digest, FileEntry, LayerContents, LayerIndex
from layerscope.store import ENCODING_VERSION, LayerCache
from layerscope.store.layer_cache import SETTLE_BYTES

DIGEST_GZ = Digest("sha256:" + "a" * 64)
DIGEST_ZST = Digest("sha256:" + "b" * 64)


@pytest.fixture
def cache(tmp_path: Path) -> LayerCache:
    return LayerCache(tmp_path / "layerscope.sqlite3")


def _set_last_used(cache: LayerCache, n: int, stamp: float) -> None:
    cache.database.run(
        lambda c: c.execute(
            "UPDATE layers SET last_used_at = ? WHERE diff_id = ?", (stamp, diff_id(n))
        ),
        write=True,
    )


def test_it_is_a_layer_index(cache: LayerCache) -> None:
    index: LayerIndex = cache  # mypy checks the protocol; the calls check behaviour
    expected = contents_of(realistic_entries(1000, seed=3))
    assert index.get(diff_id(1)) is None
    index.put(diff_id(1), expected)
    got = index.get(diff_id(1))
    assert got == expected
    assert got is not None and got.size_bytes == expected.size_bytes
    assert got.tar_size_bytes == expected.tar_size_bytes


def test_put_refuses_entries_that_are_not_exactly_file_entries(cache: LayerCache) -> None:
    class Subclassed(FileEntry):
        __slots__ = ()

    entries = list(realistic_entries(50, seed=4))
    odd = entries[20]
    entries[20] = Subclassed(odd.path, odd.kind, odd.size_bytes, odd.mode, odd.uid, odd.gid, 0.0)
    with pytest.raises(TypeError, match="FileEntry"):
        cache.put(diff_id(2), contents_of(tuple(entries)))
    assert cache.get(diff_id(2)) is None


def test_a_big_entry_is_in_the_database_file_before_the_cache_closes(tmp_path: Path) -> None:
    """put() checkpoints an entry of SETTLE_BYTES or more out of the WAL (the close at the end
    of a command then has nothing to copy); a small one stays in the WAL until then."""
    path = tmp_path / "c.sqlite3"
    wal = Path(f"{path}-wal")
    with LayerCache(path) as cache:
        cache.put(diff_id(1), contents_of(realistic_entries(20, seed=1)))
        size_small = path.stat().st_size
        cache.put(diff_id(2), contents_of(realistic_entries(60_000, seed=2)))
        assert path.stat().st_size - size_small >= SETTLE_BYTES  # copied into the file
        assert cache.get(diff_id(1)) is not None and cache.get(diff_id(2)) is not None
    assert not wal.exists() or wal.stat().st_size == 0


def test_contents_survive_reopening(tmp_path: Path) -> None:
    expected = contents_of(realistic_entries(300))
    with LayerCache(tmp_path / "db") as first:
        first.put(diff_id(9), expected)
    with LayerCache(tmp_path / "db") as second:
        assert second.get(diff_id(9)) == expected


def test_empty_layer_round_trips(cache: LayerCache) -> None:
    empty = LayerContents((), 0, 1024)
    cache.put(diff_id(0), empty)
    assert cache.get(diff_id(0)) == empty


def test_lookup_by_any_known_digest(cache: LayerCache) -> None:
    expected = contents_of(realistic_entries(40))
    cache.put(diff_id(1), expected, digest=DIGEST_GZ)
    cache.put(diff_id(1), expected, digest=DIGEST_ZST)  # same layer, pushed recompressed
    cache.put(diff_id(1), expected)  # a put without a digest forgets no digest
    assert cache.get_by_digest(DIGEST_GZ) == (diff_id(1), expected)
    assert cache.get_by_digest(DIGEST_ZST) == (diff_id(1), expected)
    assert cache.get_by_digest(Digest("sha256:" + "c" * 64)) is None


def test_put_replaces_the_previous_contents(cache: LayerCache) -> None:
    cache.put(diff_id(1), contents_of(realistic_entries(10, seed=1)))
    newer = contents_of(realistic_entries(12, seed=2))
    cache.put(diff_id(1), newer)
    assert cache.get(diff_id(1)) == newer
    assert cache.info().layer_count == 1


def test_rows_of_another_encoding_version_are_misses_and_get_dropped(cache: LayerCache) -> None:
    cache.put(diff_id(1), contents_of(realistic_entries(10)), digest=DIGEST_GZ)
    cache.database.run(
        lambda c: c.execute("UPDATE layers SET encoding = ?", (ENCODING_VERSION + 1,)), write=True
    )
    assert cache.get(diff_id(1)) is None
    assert cache.get_by_digest(DIGEST_GZ) is None
    count = cache.database.run(lambda c: c.execute("SELECT count(*) FROM layers").fetchone()[0])
    assert count == 0
    assert cache.warnings == ()


def test_undecodable_row_is_a_miss_with_a_warning(cache: LayerCache) -> None:
    cache.put(diff_id(1), contents_of(realistic_entries(10)))
    cache.database.run(lambda c: c.execute("UPDATE layers SET data = x'00ff'"), write=True)
    assert cache.get(diff_id(1)) is None
    (warning,) = cache.warnings
    assert "dropped an unreadable cached layer" in warning


def test_get_refreshes_last_use_only_when_stale(cache: LayerCache) -> None:
    cache.put(diff_id(1), contents_of(realistic_entries(10)))
    long_ago = time.time() - 86_400
    _set_last_used(cache, 1, long_ago)
    before = time.time()
    cache.get(diff_id(1))
    newest = cache.info().newest_used_at
    assert newest is not None and newest.timestamp() >= before - 1
    recent = time.time() - 5  # fresher than TOUCH_INTERVAL_S: a hit writes nothing
    _set_last_used(cache, 1, recent)
    cache.get(diff_id(1))
    assert cache.info().newest_used_at == datetime.fromtimestamp(recent, tz=UTC)


def test_info_counts_layers_entries_and_use_times(cache: LayerCache) -> None:
    assert cache.info().layer_count == 0 and cache.info().oldest_used_at is None
    cache.put(diff_id(1), contents_of(realistic_entries(10)))
    cache.put(diff_id(2), contents_of(realistic_entries(25)))
    _set_last_used(cache, 1, 1_000_000_000.0)
    _set_last_used(cache, 2, 1_500_000_000.0)
    info = cache.info()
    assert (info.layer_count, info.entry_count) == (2, 10 + 25)
    assert info.oldest_used_at == datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)
    assert info.newest_used_at == datetime(2017, 7, 14, 2, 40, tzinfo=UTC)
    assert info.path == cache.path
    assert info.disk_bytes >= cache.path.stat().st_size > 0
    assert 0 < info.encoded_bytes < info.disk_bytes


def test_prune_older_than_keeps_recent_layers(cache: LayerCache) -> None:
    now = 2_000_000_000.0
    for n, age_days in ((1, 40), (2, 10), (3, 1)):
        cache.put(
            diff_id(n), contents_of(realistic_entries(5 * n)), digest=Digest(f"sha256:{n:064x}")
        )
        _set_last_used(cache, n, now - age_days * 86_400)
    result = cache.prune(timedelta(days=7), now=now)
    assert (result.layer_count, result.entry_count) == (2, 5 + 10)
    assert cache.get(diff_id(1)) is None and cache.get(diff_id(2)) is None
    assert cache.get(diff_id(3)) is not None
    digests = cache.database.run(lambda c: c.execute("SELECT digest FROM layer_digests").fetchall())
    assert digests == [(f"sha256:{3:064x}",)]


def test_prune_everything_vacuums_the_file(cache: LayerCache) -> None:
    for n in range(4):
        cache.put(diff_id(n), contents_of(realistic_entries(3000, seed=n)))
    cache.database.run_outside_transaction("PRAGMA wal_checkpoint(TRUNCATE)")
    before = cache.info().disk_bytes
    result = cache.prune(None)
    after = cache.info()
    assert result.layer_count == 4 and after.layer_count == 0
    assert result.bytes_freed == before - after.disk_bytes > 0
    assert after.disk_bytes < before / 4


def test_locked_database_makes_put_skip_and_get_miss_without_raising(tmp_path: Path) -> None:
    path = tmp_path / "db"
    cache = LayerCache(path)
    cache.put(diff_id(1), contents_of(realistic_entries(5)))
    cache.database.timeout_s = 0.05
    cache.database.connection.execute("PRAGMA busy_timeout = 50")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a long time
    try:
        cache.put(diff_id(2), contents_of(realistic_entries(5)))
        (warning,) = cache.warnings
        assert warning.startswith("could not cache layer sha256:0000") and "locked" in warning
        assert cache.get(diff_id(1)) is not None  # WAL: readers go on while a writer waits
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    cache.put(diff_id(2), contents_of(realistic_entries(5)))
    assert cache.get(diff_id(2)) is not None


def test_known_answers_for_many_diff_ids_at_once(tmp_path: Path) -> None:
    with LayerCache(tmp_path / "c.sqlite3") as cache:
        stored = [diff_id(i) for i in range(0, 1200, 3)]
        contents = contents_of(realistic_entries(5))
        for digest in stored:
            cache.put(digest, contents)
        asked = [diff_id(i) for i in range(1200)]
        assert cache.known(asked) == set(stored)
        assert cache.known([]) == set()


def _stored_bytes(cache: LayerCache) -> int:
    row = cache.database.run(
        lambda c: c.execute("SELECT coalesce(sum(encoded_bytes), 0) FROM layers").fetchone()
    )
    return int(row[0])


def test_size_bound_drops_least_recently_used_layers(tmp_path: Path) -> None:
    probe = LayerCache(tmp_path / "probe.sqlite3", max_bytes=0)
    for n in range(1, 4):
        probe.put(diff_id(n), contents_of(realistic_entries(400, seed=n)))
    one = _stored_bytes(probe) // 3  # about one layer's stored index
    probe.close()
    bounded = LayerCache(tmp_path / "bounded.sqlite3", max_bytes=int(one * 2.5))
    for n in range(1, 4):
        bounded.put(diff_id(n), contents_of(realistic_entries(400, seed=n)))
        _set_last_used(bounded, n, 1000.0 + n)  # layer n was used at time 1000+n
    # three layers do not fit in 2.5: the least recently used one (1) went when 3 came
    assert bounded.get(diff_id(1)) is None
    assert bounded.get(diff_id(2)) is not None and bounded.get(diff_id(3)) is not None
    assert _stored_bytes(bounded) <= bounded.max_bytes
    # (the gets above marked 2 and 3 used now); 2 is made the most recently used: 3 goes for 4
    _set_last_used(bounded, 2, time.time() + 3600)
    bounded.put(diff_id(4), contents_of(realistic_entries(400, seed=4)))
    assert [bounded.get(diff_id(n)) is not None for n in (2, 3, 4)] == [True, False, True]


def test_a_layer_larger_than_the_bound_is_still_kept(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "c.sqlite3", max_bytes=10)
    cache.put(diff_id(1), contents_of(realistic_entries(50, seed=1)))
    cache.put(diff_id(2), contents_of(realistic_entries(50, seed=2)))
    assert cache.get(diff_id(1)) is None and cache.get(diff_id(2)) is not None


def test_cache_max_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layerscope.errors import ConfigError

    monkeypatch.setenv("LAYERSCOPE_CACHE_MAX", "1.5MiB")
    assert LayerCache(tmp_path / "a.sqlite3").max_bytes == int(1.5 * 1024**2)
    monkeypatch.setenv("LAYERSCOPE_CACHE_MAX", "lots")
    with pytest.raises(ConfigError, match="LAYERSCOPE_CACHE_MAX='lots'"):
        LayerCache(tmp_path / "b.sqlite3")
