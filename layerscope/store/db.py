"""The SQLite database behind the store: connection, schema versions, migrations, retries.

One file (``cache_dir()/layerscope.sqlite3`` by default) in WAL mode. Its schema version lives in
``meta(key='schema_version')``; ``MIGRATIONS`` is the ordered list of steps that bring a database
from version ``n - 1`` to ``n``. To add tables (build records, ...), append a ``Migration`` with the
next version number; never change one that has shipped.

A file that is not a readable SQLite database is renamed to ``<name>.corrupt-<UTC timestamp>``
(with its ``-wal``/``-shm``) and a new one is created; ``Database.warnings`` says so.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..errors import StoreError

DB_FILENAME = "layerscope.sqlite3"
BUSY_TIMEOUT_S = 10.0
RETRIES = 6
SIDE_SUFFIXES = ("-wal", "-shm")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: ``apply`` runs inside the migrating transaction."""

    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def _v1_layer_index(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE layers (
            diff_id TEXT PRIMARY KEY,
            digest TEXT,
            size_bytes INTEGER NOT NULL,
            tar_size_bytes INTEGER NOT NULL,
            entry_count INTEGER NOT NULL,
            encoding INTEGER NOT NULL,
            encoded_bytes INTEGER NOT NULL,
            created_at REAL NOT NULL,
            last_used_at REAL NOT NULL,
            data BLOB NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX layers_last_used ON layers (last_used_at)")
    conn.execute(
        """CREATE TABLE layer_digests (
            digest TEXT PRIMARY KEY,
            diff_id TEXT NOT NULL,
            created_at REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX layer_digests_diff_id ON layer_digests (diff_id)")


def _v2_kept_contents(conn: sqlite3.Connection) -> None:
    # package databases a layer holds (LayerContents.contents), for package diffs
    conn.execute("ALTER TABLE layers ADD COLUMN kept BLOB")


def _v3_gzip_estimate(conn: sqlite3.Connection) -> None:
    # a layer stored uncompressed: its estimated gzip size (LayerContents.gzip_estimate_bytes)
    conn.execute("ALTER TABLE layers ADD COLUMN gzip_estimate_bytes INTEGER")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "layer index", _v1_layer_index),
    Migration(2, "kept file contents", _v2_kept_contents),
    Migration(3, "gzip size estimate", _v3_gzip_estimate),
)
"""Version n is ``MIGRATIONS[n - 1]``; the list must stay contiguous from 1."""


def default_path() -> Path:
    """``cache_dir()/layerscope.sqlite3`` (``$LAYERSCOPE_CACHE_DIR`` overrides the directory)."""
    from ..config_paths import cache_dir

    return cache_dir() / DB_FILENAME


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _is_corrupt(exc: sqlite3.Error) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class Database:
    """An open, migrated store database. Not for sharing across processes; open one in each."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        migrations: tuple[Migration, ...] = MIGRATIONS,
        timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.migrations = migrations
        self.timeout_s = timeout_s
        self.warnings: list[str] = []
        self._lock = (
            threading.RLock()
        )  # one connection, shared by threads: one transaction at a time
        for i, migration in enumerate(migrations, start=1):
            if migration.version != i:
                raise StoreError(f"store migrations out of order at version {migration.version}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.path.parent}: {exc.strerror or exc}") from exc
        self._conn = self._connect()
        try:
            self._prepare()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise self._error("cannot open", exc) from exc
            self._recover(exc)
            try:
                self._prepare()
            except sqlite3.Error as again:
                raise self._error("cannot open", again) from again

    # ------------------------------------------------------------------------- public

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection (autocommit mode; use ``run`` for transactions)."""
        return self._conn

    @property
    def schema_version(self) -> int:
        """The version recorded in ``meta``."""
        return self.run(_read_version)

    def run(self, work: Callable[[sqlite3.Connection], T], *, write: bool = False) -> T:
        """``work(conn)`` in one transaction (``BEGIN IMMEDIATE`` when writing), retried when the
        database is locked by another process; a corrupt file is moved aside and the work retried
        once on a fresh database. Raises StoreError when it still cannot be done."""
        with self._lock:
            return self._run(work, write)

    def _run(self, work: Callable[[sqlite3.Connection], T], write: bool) -> T:
        recovered = False
        for attempt in range(RETRIES):
            try:
                return self._transaction(work, write)
            except sqlite3.Error as exc:
                if _is_busy(exc) and attempt + 1 < RETRIES:
                    time.sleep(0.02 * 2**attempt + random.random() * 0.02)
                    continue
                if _is_corrupt(exc) and not recovered:
                    recovered = True
                    self._recover(exc)
                    try:
                        self._prepare()
                    except sqlite3.Error as again:
                        raise self._error("cannot use", again) from again
                    continue
                raise self._error("cannot use", exc) from exc
        raise StoreError(f"cache database {self.path} stayed locked")  # pragma: no cover

    def run_outside_transaction(self, sql: str) -> None:
        """Run a statement that SQLite refuses inside a transaction (``VACUUM``), with retries."""
        self.run(lambda conn: None)  # recover a corrupt file first
        for attempt in range(RETRIES):
            try:
                with self._lock:
                    self._conn.execute(sql)
                return
            except sqlite3.Error as exc:
                if _is_busy(exc) and attempt + 1 < RETRIES:
                    time.sleep(0.05 * 2**attempt)
                    continue
                raise self._error("cannot use", exc) from exc

    def disk_bytes(self) -> int:
        """Size of the database file and its WAL/shared-memory files."""
        total = 0
        for suffix in ("", *SIDE_SUFFIXES):
            with contextlib.suppress(OSError):
                total += os.stat(f"{self.path}{suffix}").st_size
        return total

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result (``"ok"`` when sound)."""
        rows = self.run(lambda conn: conn.execute("PRAGMA integrity_check").fetchall())
        return "; ".join(str(row[0]) for row in rows)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------- internals

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"{doing} cache database {self.path}: {exc}")

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._error("cannot open", exc) from exc

    def _transaction(self, work: Callable[[sqlite3.Connection], T], write: bool) -> T:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            result = work(conn)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _prepare(self) -> None:
        """WAL mode, then migrate to the newest schema; raises sqlite3 errors."""
        for attempt in range(RETRIES):
            try:
                self._conn.execute("PRAGMA journal_mode=WAL").fetchall()
                break
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt + 1 == RETRIES:
                    raise
                time.sleep(0.02 * 2**attempt)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        latest = len(self.migrations)
        current = self._retrying(lambda: self._transaction(_read_version, False))
        if current > latest:
            raise StoreError(
                f"cache database {self.path} has schema version {current}, newer than this "
                f"layerscope understands ({latest}); upgrade layerscope or use another cache dir"
            )
        if current < latest:
            self._retrying(lambda: self._transaction(self._migrate, True))

    def _retrying(self, step: Callable[[], T]) -> T:
        for attempt in range(RETRIES):
            try:
                return step()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt + 1 == RETRIES:
                    raise
                time.sleep(0.02 * 2**attempt + random.random() * 0.02)
        raise AssertionError("unreachable")  # pragma: no cover

    def _migrate(self, conn: sqlite3.Connection) -> None:
        current = _read_version(conn)  # again, under the write lock: another process may have won
        if current == 0:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        for migration in self.migrations[current:]:
            migration.apply(conn)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(migration.version),),
            )

    def _recover(self, cause: sqlite3.Error) -> None:
        """Move an unreadable database aside (under a lock, re-checking first) and reconnect."""
        self.close()
        lock = self.path.with_name(self.path.name + ".lock")
        with _file_lock(lock):
            if self._still_corrupt():
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
                moved = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
                for suffix in ("", *SIDE_SUFFIXES):
                    with contextlib.suppress(FileNotFoundError):
                        os.replace(f"{self.path}{suffix}", f"{moved}{suffix}")
                self.warnings.append(
                    f"cache database {self.path} was unreadable ({cause}); moved it to "
                    f"{moved.name} and started an empty one"
                )
            self._conn = self._connect()

    def _still_corrupt(self) -> bool:
        try:
            probe = sqlite3.connect(self.path, timeout=self.timeout_s)
        except sqlite3.Error:
            return True
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchall()
            result = probe.execute("PRAGMA quick_check(1)").fetchone()
            return result is None or result[0] != "ok"
        except sqlite3.Error as exc:
            return not _is_busy(exc)
        finally:
            probe.close()


def _read_version(conn: sqlite3.Connection) -> int:
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if not has_meta:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        return 0


__all__ = ["DB_FILENAME", "MIGRATIONS", "Database", "Migration", "default_path"]
