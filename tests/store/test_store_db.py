"""Schema versions, migrations, and what happens to a database file that is not one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from storekit import contents_of, diff_id, realistic_entries

from layerscope.errors import StoreError
from layerscope.store import MIGRATIONS, Database, LayerCache, Migration, default_path

NEXT = len(MIGRATIONS) + 1
"""The version a future migration would get."""


def test_default_path_is_in_the_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(tmp_path / "c"))
    assert default_path() == tmp_path / "c" / "layerscope.sqlite3"
    with LayerCache() as cache:
        assert cache.path == tmp_path / "c" / "layerscope.sqlite3"
    assert (tmp_path / "c" / "layerscope.sqlite3").is_file()


def test_new_database_is_at_the_newest_version_in_wal_mode(tmp_path: Path) -> None:
    with Database(tmp_path / "x.sqlite3") as db:
        assert db.schema_version == len(MIGRATIONS) == 3  # layer index, kept, gzip estimate
        mode = db.connection.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    raw = sqlite3.connect(tmp_path / "x.sqlite3")
    version = raw.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert version == (str(len(MIGRATIONS)),)
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "layers", "layer_digests"} <= tables


def _builds_v2(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE builds (id INTEGER PRIMARY KEY, image_id TEXT NOT NULL)")


def test_a_later_migration_upgrades_in_place_and_keeps_layers(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    expected = contents_of(realistic_entries(20))
    with LayerCache(path) as cache:
        cache.put(diff_id(1), expected)
    v2 = (*MIGRATIONS, Migration(NEXT, "builds", _builds_v2))
    with Database(path, migrations=v2) as db:
        assert db.schema_version == NEXT
        db.run(lambda c: c.execute("INSERT INTO builds (image_id) VALUES ('x')"), write=True)
        with LayerCache(db) as cache:
            assert cache.get(diff_id(1)) == expected
    # an older layerscope (knows only v1) refuses a v2 database with one line, not a traceback
    with pytest.raises(StoreError, match=f"schema version {NEXT}, newer than") as info:
        Database(path)
    assert "\n" not in str(info.value)


def test_migrations_must_be_numbered_from_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="out of order"):
        Database(tmp_path / "db", migrations=(Migration(2, "x", _builds_v2),))


def test_failed_migration_rolls_back_entirely(tmp_path: Path) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise sqlite3.OperationalError("simulated failure halfway")

    path = tmp_path / "db.sqlite3"
    Database(path).close()
    with pytest.raises(StoreError, match="simulated failure"):
        Database(path, migrations=(*MIGRATIONS, Migration(NEXT, "broken", broken)))
    with Database(path) as db:
        assert db.schema_version == len(MIGRATIONS)
        names = db.run(lambda c: [r[0] for r in c.execute("SELECT name FROM sqlite_master")])
        assert "half" not in names


def test_garbage_file_is_moved_aside_and_recreated(tmp_path: Path) -> None:
    path = tmp_path / "layerscope.sqlite3"
    garbage = b"this is not sqlite at all\n" * 200
    path.write_bytes(garbage)
    with LayerCache(path) as cache:
        (warning,) = cache.warnings
        assert "was unreadable" in warning and "moved it to layerscope.sqlite3.corrupt-" in warning
        assert "\n" not in warning
        cache.put(diff_id(1), contents_of(realistic_entries(5)))
        assert cache.get(diff_id(1)) is not None
    (moved,) = tmp_path.glob("layerscope.sqlite3.corrupt-*")
    assert moved.read_bytes() == garbage


def test_file_corrupted_while_open_is_recovered_on_next_use(tmp_path: Path) -> None:
    path = tmp_path / "layerscope.sqlite3"
    cache = LayerCache(path)
    cache.put(diff_id(1), contents_of(realistic_entries(5)))
    cache.database.run_outside_transaction("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.close()
    data = bytearray(path.read_bytes())
    data[0:16] = b"\0" * 16  # wipe the header: "file is not a database"
    path.write_bytes(bytes(data))
    with LayerCache(path) as cache:
        assert cache.get(diff_id(1)) is None
        assert any("unreadable" in w for w in cache.warnings)


def test_unwritable_directory_is_a_one_line_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as info:
        Database(blocker / "sub" / "db.sqlite3")
    assert "\n" not in str(info.value)


def test_a_v1_cache_is_migrated_and_kept_contents_round_trip(tmp_path: Path) -> None:
    """Databases written before kept contents existed keep their layers (with none kept)."""
    from layerscope.model import LayerContents

    path = tmp_path / "db.sqlite3"
    old = contents_of(realistic_entries(10))
    with LayerCache(path) as cache:
        cache.put(diff_id(1), old)
    raw = sqlite3.connect(path)  # turn it into what a v1 layerscope left behind
    raw.execute("ALTER TABLE layers DROP COLUMN kept")
    raw.execute("ALTER TABLE layers DROP COLUMN gzip_estimate_bytes")
    raw.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    kept = (("/var/lib/dpkg/status", b"Package: a\nVersion: 1\n\n"), ("/x/METADATA", b"\xff\x00"))
    new = LayerContents(old.entries, old.size_bytes, old.tar_size_bytes, kept)
    with LayerCache(path) as cache:
        assert cache.database.schema_version == len(MIGRATIONS)
        assert cache.get(diff_id(1)) == old
        cache.put(diff_id(2), new)
        assert cache.get(diff_id(2)) == new


def test_a_v2_cache_is_migrated_and_gzip_estimates_round_trip(tmp_path: Path) -> None:
    """Layers cached before estimates were kept read back without one (the source walks such a
    layer again once); a put without an estimate never erases one already known."""
    import dataclasses

    path = tmp_path / "db.sqlite3"
    old = contents_of(realistic_entries(10))
    with LayerCache(path) as cache:
        cache.put(diff_id(1), old)
    raw = sqlite3.connect(path)  # what a v2 layerscope left behind
    raw.execute("ALTER TABLE layers DROP COLUMN gzip_estimate_bytes")
    raw.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    estimated = dataclasses.replace(old, gzip_estimate_bytes=1234)
    with LayerCache(path) as cache:
        assert cache.database.schema_version == 3
        assert cache.get(diff_id(1)) == old and old.gzip_estimate_bytes is None
        cache.put(diff_id(1), estimated)
        assert cache.get(diff_id(1)) == estimated
        cache.put(diff_id(1), old)  # e.g. the same layer read from a registry (gzip) later
        assert cache.get(diff_id(1)) == estimated
