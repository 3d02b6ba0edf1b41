"""The layer index cache: a layer's file entries keyed by diff_id (and by blob digest).

Implements ``model.LayerIndex``. Reads and writes never raise for a busy, full or broken cache:
``get`` answers ``None`` and ``put`` skips, and ``warnings`` says what went wrong, so an inspect
never fails because of its cache. Opening can raise ``StoreError`` (no usable directory, or a
database from a newer layerscope).
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from ..errors import StoreError
from ..model import Digest, FileEntry, LayerContents
from .codec import (
    ENCODING_VERSION,
    CodecError,
    decode_entries,
    decode_kept,
    encode_entries,
    encode_kept,
)
from .db import Database

SETTLE_BYTES = 1 << 20
"""An entry encoded to at least this many bytes is checkpointed out of the WAL by ``put``."""
TOUCH_INTERVAL_S = 60.0
"""``last_used_at`` is rewritten on a hit only when older than this (keeps reads read-only)."""

_Row = tuple[str, int, int, int, int, bytes, float, bytes | None, int | None]
"""diff_id, size_bytes, tar_size_bytes, entry_count, encoding, data, last_used_at, kept,
gzip_estimate_bytes."""


@dataclass(frozen=True, slots=True)
class LayerCacheInfo:
    """What ``layerscope cache info`` shows about the layer index."""

    path: Path
    disk_bytes: int
    """Database file plus its WAL and shared-memory files."""
    layer_count: int
    entry_count: int
    encoded_bytes: int
    """Sum of the stored (compressed) entry payloads."""
    oldest_used_at: datetime | None
    newest_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class LayerPruneResult:
    """What a prune removed from the layer index."""

    layer_count: int
    entry_count: int
    bytes_freed: int
    """Shrink of the database files on disk (0 when they did not shrink)."""


def _utc(stamp: float | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, tz=UTC)


class LayerCache:
    """``get``/``put`` layer contents by diff_id; one instance per process (threads may share)."""

    def __init__(
        self, path: Path | str | Database | None = None, *, max_bytes: int | None = None
    ) -> None:
        """Open (creating or migrating) the database at ``path``, default ``cache_dir()``.

        ``max_bytes`` bounds the stored layer indexes (default ``cache_max_bytes()``, from
        LAYERSCOPE_CACHE_MAX; 0: no bound): a put beyond it drops least recently used layers.
        """
        from ..config_paths import cache_max_bytes

        self.max_bytes = cache_max_bytes() if max_bytes is None else max_bytes
        self._db = path if isinstance(path, Database) else Database(path)
        self._problems: list[str] = []
        self._encoded: tuple[tuple[FileEntry, ...], bytes] | None = None

    @property
    def database(self) -> Database:
        return self._db

    @property
    def path(self) -> Path:
        return self._db.path

    @property
    def warnings(self) -> tuple[str, ...]:
        """One-line notes about cache trouble so far (moved-aside file, skipped writes)."""
        return (*self._db.warnings, *self._problems)

    # ------------------------------------------------------------------------- LayerIndex

    def get(self, diff_id: Digest) -> LayerContents | None:
        """The cached contents of the layer with this diff_id, or None."""
        row = self._read("WHERE diff_id = ?", diff_id)
        return None if row is None else self._contents(diff_id, row[1:])

    def known(self, diff_ids: Iterable[Digest]) -> set[Digest]:
        """Which of these diff_ids the cache holds (one query per 500, not one per layer)."""
        wanted = sorted(set(diff_ids))

        def read(conn: sqlite3.Connection, chunk: list[Digest]) -> list[tuple[str]]:
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT diff_id FROM layers WHERE diff_id IN ({marks})"
            return cast(list[tuple[str]], conn.execute(sql, chunk).fetchall())

        found: set[Digest] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._db.run(functools.partial(read, chunk=chunk))
            found.update(Digest(str(row[0])) for row in rows)
        return found

    def get_by_digest(self, digest: Digest) -> tuple[Digest, LayerContents] | None:
        """(diff_id, contents) of the layer whose stored blob has this digest, or None."""
        row = self._read(
            "WHERE diff_id = (SELECT diff_id FROM layer_digests WHERE digest = ?)", digest
        )
        if row is None:
            return None
        diff_id = Digest(str(row[0]))
        contents = self._contents(diff_id, row[1:])
        return None if contents is None else (diff_id, contents)

    def put(
        self, diff_id: Digest, contents: LayerContents, *, digest: Digest | None = None
    ) -> None:
        """Remember a layer's contents (and, when given, the digest of its stored blob)."""
        if not set(map(type, contents.entries)) <= {FileEntry}:  # (no Python loop: 100k+)
            raise TypeError("LayerContents.entries must hold FileEntry objects")
        # the same walk cached under a second key (its local key, then its diff_id once its
        # hash matched) is encoded once
        memo = self._encoded
        if memo is not None and memo[0] is contents.entries:
            data = memo[1]
        else:
            data = encode_entries(contents.entries)
            self._encoded = (contents.entries, data)
        now = time.time()
        row = (
            diff_id,
            digest,
            contents.size_bytes,
            contents.tar_size_bytes,
            len(contents.entries),
            ENCODING_VERSION,
            len(data),
            now,
            now,
            data,
            encode_kept(contents.contents),
            contents.gzip_estimate_bytes,
        )

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                """INSERT INTO layers (diff_id, digest, size_bytes, tar_size_bytes, entry_count,
                       encoding, encoded_bytes, created_at, last_used_at, data, kept,
                       gzip_estimate_bytes)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (diff_id) DO UPDATE SET
                       digest = coalesce(excluded.digest, layers.digest),
                       size_bytes = excluded.size_bytes,
                       tar_size_bytes = excluded.tar_size_bytes,
                       entry_count = excluded.entry_count,
                       encoding = excluded.encoding,
                       encoded_bytes = excluded.encoded_bytes,
                       created_at = excluded.created_at,
                       last_used_at = excluded.last_used_at,
                       data = excluded.data,
                       kept = excluded.kept,
                       gzip_estimate_bytes = coalesce(
                           excluded.gzip_estimate_bytes, layers.gzip_estimate_bytes
                       )""",
                row,
            )
            if digest is not None:
                conn.execute(
                    """INSERT INTO layer_digests (digest, diff_id, created_at) VALUES (?, ?, ?)
                       ON CONFLICT (digest) DO UPDATE SET diff_id = excluded.diff_id""",
                    (digest, diff_id, now),
                )
            if self.max_bytes:
                _evict(conn, self.max_bytes, keep=diff_id)

        self._attempt(f"could not cache layer {diff_id[:19]}", write)
        if len(data) >= SETTLE_BYTES:
            # into the database file now, by the thread that wrote it (for a big local layer, a
            # background thread while the command analyses), not by the close at the end of
            # the command: copying a 100k-entry layer out of the WAL took ~6 ms there
            with contextlib.suppress(StoreError):
                self._db.run_outside_transaction("PRAGMA wal_checkpoint(PASSIVE)")

    # ------------------------------------------------------------------------- maintenance

    def info(self) -> LayerCacheInfo:
        """Counts, sizes and use times for ``cache info``."""
        row = self._db.run(
            lambda conn: conn.execute(
                """SELECT count(*), coalesce(sum(entry_count), 0), coalesce(sum(encoded_bytes), 0),
                          min(last_used_at), max(last_used_at)
                   FROM layers WHERE encoding = ?""",
                (ENCODING_VERSION,),
            ).fetchone()
        )
        return LayerCacheInfo(
            path=self.path,
            disk_bytes=self._db.disk_bytes(),
            layer_count=int(row[0]),
            entry_count=int(row[1]),
            encoded_bytes=int(row[2]),
            oldest_used_at=_utc(row[3]),
            newest_used_at=_utc(row[4]),
        )

    def prune(
        self, older_than: timedelta | None = None, *, now: float | None = None
    ) -> LayerPruneResult:
        """Remove layers unused for longer than ``older_than`` (None: all), then VACUUM."""
        cutoff = (
            float("inf")
            if older_than is None
            else (time.time() if now is None else now) - older_than.total_seconds()
        )
        before = self._db.disk_bytes()

        def delete(conn: sqlite3.Connection) -> tuple[int, int]:
            doomed = "last_used_at < ? OR encoding != ?"
            layers, entries = conn.execute(
                f"SELECT count(*), coalesce(sum(entry_count), 0) FROM layers WHERE {doomed}",
                (cutoff, ENCODING_VERSION),
            ).fetchone()
            conn.execute(f"DELETE FROM layers WHERE {doomed}", (cutoff, ENCODING_VERSION))
            conn.execute(
                "DELETE FROM layer_digests WHERE diff_id NOT IN (SELECT diff_id FROM layers)"
            )
            return int(layers), int(entries)

        layers, entries = self._db.run(delete, write=True)
        self._db.run_outside_transaction("VACUUM")
        self._db.run_outside_transaction("PRAGMA wal_checkpoint(TRUNCATE)")
        return LayerPruneResult(layers, entries, max(0, before - self._db.disk_bytes()))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LayerCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------- internals

    def _read(self, where: str, key: str) -> _Row | None:
        sql = (
            "SELECT diff_id, size_bytes, tar_size_bytes, entry_count, encoding, data, "
            f"last_used_at, kept, gzip_estimate_bytes FROM layers {where}"
        )
        try:
            row = self._db.run(lambda conn: conn.execute(sql, (key,)).fetchone())
        except StoreError as exc:
            self._problems.append(f"layer cache read skipped: {exc}")
            return None
        return None if row is None else cast(_Row, tuple(row))

    def _contents(
        self,
        diff_id: Digest,
        row: tuple[int, int, int, int, bytes, float, bytes | None, int | None],
    ) -> LayerContents | None:
        size_bytes, tar_size_bytes, count, encoding, data, last_used, kept_blob, gzip = row
        if encoding != ENCODING_VERSION:
            self._forget(diff_id)
            return None
        try:
            entries = decode_entries(data, count)
            kept = decode_kept(kept_blob)
        except CodecError as exc:
            self._problems.append(f"dropped an unreadable cached layer {diff_id[:19]}: {exc}")
            self._forget(diff_id)
            return None
        now = time.time()
        if now - last_used > TOUCH_INTERVAL_S:
            self._attempt(
                "could not record cache use",
                lambda conn: conn.execute(
                    "UPDATE layers SET last_used_at = ? WHERE diff_id = ?", (now, diff_id)
                ),
            )
        return LayerContents(entries, size_bytes, tar_size_bytes, kept, gzip)

    def forget(self, diff_id: Digest) -> None:
        """Drop the layer cached under ``diff_id`` (a local key whose check failed)."""
        self._forget(diff_id)

    def _forget(self, diff_id: Digest) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM layers WHERE diff_id = ?", (diff_id,))
            conn.execute("DELETE FROM layer_digests WHERE diff_id = ?", (diff_id,))

        self._attempt("could not drop a stale cached layer", delete)

    def _attempt(self, what: str, work: Callable[[sqlite3.Connection], object]) -> None:
        try:
            self._db.run(work, write=True)
        except StoreError as exc:
            self._problems.append(f"{what}: {exc}")


def _evict(conn: sqlite3.Connection, max_bytes: int, *, keep: str) -> None:
    """Within the writing transaction: drop least recently used layers (never ``keep``, the one
    just written) until the stored indexes fit in ``max_bytes``. Freed pages are reused by
    later writes; ``cache prune`` gives them back to the file system."""
    (total,) = conn.execute("SELECT coalesce(sum(encoded_bytes), 0) FROM layers").fetchone()
    if total <= max_bytes:
        return
    doomed: list[str] = []
    for victim, size in conn.execute(
        "SELECT diff_id, encoded_bytes FROM layers WHERE diff_id != ? "
        "ORDER BY last_used_at, created_at",
        (keep,),
    ):
        if total <= max_bytes:
            break
        doomed.append(victim)
        total -= size
    conn.executemany("DELETE FROM layers WHERE diff_id = ?", [(d,) for d in doomed])
    conn.executemany("DELETE FROM layer_digests WHERE diff_id = ?", [(d,) for d in doomed])


__all__ = ["LayerCache", "LayerCacheInfo", "LayerPruneResult", "TOUCH_INTERVAL_S"]
