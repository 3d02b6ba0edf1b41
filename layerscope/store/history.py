"""Build records for ``layerscope history``: one SQLite file in the DATA directory.

``data_dir()/history.sqlite3`` by default (``--store PATH`` names another), with its own
migration list on the shared ``Database`` machinery, so wiping the cache never loses history.
Each analysed image is recorded once per repository: repository, tag, image id, creation time,
and per layer its diff_id, chain ID, sizes and instruction; build logs add the builder's cached
flag and step duration per layer.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from ..dockerfile.created_by import (
    BUILDKIT_COMMENT,
    BUILDKIT_EXPORTER_COMMENT,
    instruction_from_created_by,
)
from ..errors import BadReferenceError
from ..model import BuildRecord, Digest, Image, LayerRecord
from ..refs import parse_ref, split_name
from .db import Database, Migration

HISTORY_FILENAME = "history.sqlite3"


def _v1_builds(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE builds (
            id INTEGER PRIMARY KEY,
            repository TEXT NOT NULL,
            tag TEXT,
            image_id TEXT NOT NULL,
            created TEXT,
            ref TEXT NOT NULL,
            recorded_at REAL NOT NULL,
            UNIQUE (repository, image_id)
        )"""
    )
    conn.execute(
        """CREATE TABLE build_layers (
            build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            diff_id TEXT NOT NULL,
            chain_id TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            compressed_size_bytes INTEGER,
            created_by TEXT NOT NULL,
            instruction TEXT NOT NULL,
            history_created TEXT,
            is_base INTEGER,
            PRIMARY KEY (build_id, idx)
        )"""
    )


def _v2_build_logs(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE build_layers ADD COLUMN log_cached INTEGER")
    conn.execute("ALTER TABLE build_layers ADD COLUMN log_duration_s REAL")
    conn.execute("CREATE INDEX builds_image_id ON builds (image_id)")


HISTORY_MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "build records", _v1_builds),
    Migration(2, "build-log cache flags and durations", _v2_build_logs),
)
"""Version n is ``HISTORY_MIGRATIONS[n - 1]``; append, never change a shipped step."""


def default_history_path() -> Path:
    """``data_dir()/history.sqlite3`` (``$LAYERSCOPE_DATA_DIR`` overrides the directory)."""
    from ..config_paths import data_dir

    return data_dir() / HISTORY_FILENAME


def repository_name(name: str) -> str | None:
    """``registry/repository`` of an image name without tag or digest; None if not a name."""
    try:
        registry, repository, _tag, _digest = split_name(name)
    except BadReferenceError:
        return None
    return f"{registry}/{repository}"


def repository_of_name(name: str) -> tuple[str, str | None] | None:
    """(``registry/repository``, tag) of an image name; None if it is not a name."""
    try:
        registry, repository, tag, _digest = split_name(name)
    except BadReferenceError:
        return None
    return f"{registry}/{repository}", tag


def repository_of(image: Image, ref: str | None = None) -> tuple[str, str | None]:
    """(repository, tag) of an image: from its repo tags (the one naming the ref's repository
    first), else from the reference it was loaded from."""
    text = ref or image.ref
    from_ref: tuple[str, str | None] | None = None
    try:
        parsed = parse_ref(text)
        candidate = parsed.selector if parsed.selector else parsed.location
        if not candidate.startswith("sha256:"):
            from_ref = repository_of_name(candidate)
    except BadReferenceError:
        from_ref = None
    tagged = [found for found in map(repository_of_name, image.repo_tags) if found is not None]
    if from_ref is not None:
        for found in tagged:
            if found[0] == from_ref[0]:
                return found
    if tagged:
        return tagged[0]
    if from_ref is not None:
        return from_ref
    return text, None


def _user_marked(comment: str) -> bool:
    return comment == BUILDKIT_COMMENT or comment.startswith("FROM ")


def base_flags(image: Image, base_layer_count: int | None = None) -> tuple[bool | None, ...]:
    """Per layer: True for the base image's layers, False for the build's own, None when the
    image does not say. A given count decides; else BuildKit's and buildah's history comments
    mark the build's own steps, and an unmarked prefix before them is the base."""
    count = len(image.layers)
    if base_layer_count is not None:
        return tuple(i < base_layer_count for i in range(count))
    marks = [
        _user_marked(layer.history.comment) if layer.history is not None else None
        for layer in image.layers
        if layer.history is None or layer.history.comment != BUILDKIT_EXPORTER_COMMENT
    ]
    if len(marks) != count or None in marks or not any(marks) or marks[0]:
        return (None,) * count
    first = marks.index(True)
    if not all(marks[first:]):
        return (None,) * count
    return tuple(i < first for i in range(count))


def build_record(
    image: Image,
    *,
    ref: str | None = None,
    base_layer_count: int | None = None,
    recorded_at: float | None = None,
) -> BuildRecord:
    """The record of ``image`` (not stored)."""
    repository, tag = repository_of(image, ref)
    flags = base_flags(image, base_layer_count)
    layers = tuple(
        LayerRecord(
            index=i,
            diff_id=layer.diff_id,
            chain_id=chain,
            size_bytes=layer.size_bytes,
            # A layer stored uncompressed (docker save, the engine's export) has no
            # compressed size: its blob size is not what a push sends, so it stays unknown.
            compressed_size_bytes=(
                layer.compressed_size_bytes if layer.compression != "none" else None
            ),
            created_by=layer.created_by,
            instruction=" ".join(instruction_from_created_by(layer.created_by).split()),
            history_created=layer.history.created if layer.history else None,
            is_base=flags[i],
        )
        for i, (layer, chain) in enumerate(zip(image.layers, image.chain_ids, strict=True))
    )
    return BuildRecord(
        repository,
        tag,
        image.image_id,
        image.created,
        ref or image.ref,
        layers,
        time.time() if recorded_at is None else recorded_at,
    )


_LAYER_COLUMNS = (
    "idx, diff_id, chain_id, size_bytes, compressed_size_bytes, created_by, instruction, "
    "history_created, is_base, log_cached, log_duration_s"
)


def _bool(value: object) -> bool | None:
    return None if value is None else bool(value)


class HistoryStore:
    """Build records of every repository; one instance per process (threads may share)."""

    def __init__(self, path: Path | str | Database | None = None) -> None:
        """Open (creating or migrating) the history database, default in the data dir."""
        if isinstance(path, Database):
            self._db = path
        else:
            target = Path(path) if path is not None else default_history_path()
            self._db = Database(target, migrations=HISTORY_MIGRATIONS)

    @property
    def database(self) -> Database:
        return self._db

    @property
    def path(self) -> Path:
        return self._db.path

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._db.warnings)

    def record(self, build: BuildRecord) -> bool:
        """Store a build; False when this repository already has this image id (nothing added).
        Build-log data the record carries fills layers that have none yet."""

        def write(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT INTO builds (repository, tag, image_id, created, ref, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repository, image_id) DO NOTHING",
                (build.repository, build.tag, build.image_id, build.created, build.ref,
                 build.recorded_at),
            )  # fmt: skip
            if cursor.rowcount != 1:
                if build.has_build_log:
                    self._write_logs(conn, build)
                return False
            build_id = cursor.lastrowid
            conn.executemany(
                f"INSERT INTO build_layers (build_id, {_LAYER_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (build_id, layer.index, layer.diff_id, layer.chain_id, layer.size_bytes,
                     layer.compressed_size_bytes, layer.created_by, layer.instruction,
                     layer.history_created, layer.is_base, layer.log_cached,
                     layer.log_duration_seconds)
                    for layer in build.layers
                ],
            )  # fmt: skip
            return True

        return self._db.run(write, write=True)

    def attach_build_log(self, build: BuildRecord) -> None:
        """Store the build-log flags and durations ``build`` carries (for every repository that
        recorded its image id)."""
        self._db.run(lambda conn: self._write_logs(conn, build), write=True)

    @staticmethod
    def _write_logs(conn: sqlite3.Connection, build: BuildRecord) -> None:
        conn.executemany(
            "UPDATE build_layers SET log_cached = ?, log_duration_s = ? "
            "WHERE idx = ? AND build_id IN (SELECT id FROM builds WHERE image_id = ?)",
            [
                (layer.log_cached, layer.log_duration_seconds, layer.index, build.image_id)
                for layer in build.layers
                if layer.log_cached is not None or layer.log_duration_seconds is not None
            ],
        )

    def repositories(self) -> tuple[tuple[str, int], ...]:
        """Every recorded repository with its number of builds, by name."""
        rows = self._db.run(
            lambda conn: conn.execute(
                "SELECT repository, count(*) FROM builds GROUP BY repository ORDER BY repository"
            ).fetchall()
        )
        return tuple((str(name), int(n)) for name, n in rows)

    def builds(self, repository: str) -> tuple[BuildRecord, ...]:
        """The builds recorded for ``repository`` (a name like ``app`` or ``host/app:tag`` is
        normalised; a repository recorded under a non-name is matched verbatim), in recording
        order (``analysis.cache`` orders them by creation time)."""
        names = {repository}
        normalised = repository_name(repository)
        if normalised is not None:
            names.add(normalised)
        marks = ", ".join("?" for _ in names)

        def read(conn: sqlite3.Connection) -> list[BuildRecord]:
            rows = conn.execute(
                "SELECT id, repository, tag, image_id, created, ref, recorded_at FROM builds "
                f"WHERE repository IN ({marks}) ORDER BY recorded_at, id",
                tuple(names),
            ).fetchall()
            return [self._read_build(conn, row) for row in rows]

        return tuple(self._db.run(read))

    @staticmethod
    def _read_build(conn: sqlite3.Connection, row: Sequence[object]) -> BuildRecord:
        build_id, repository, tag, image_id, created, ref, recorded_at = row
        layers = tuple(
            LayerRecord(
                index=int(r[0]),
                diff_id=Digest(str(r[1])),
                chain_id=Digest(str(r[2])),
                size_bytes=int(r[3]),
                compressed_size_bytes=None if r[4] is None else int(r[4]),
                created_by=str(r[5]),
                instruction=str(r[6]),
                history_created=None if r[7] is None else str(r[7]),
                is_base=_bool(r[8]),
                log_cached=_bool(r[9]),
                log_duration_seconds=None if r[10] is None else float(r[10]),
            )
            for r in conn.execute(
                f"SELECT {_LAYER_COLUMNS} FROM build_layers WHERE build_id = ? ORDER BY idx",
                (build_id,),
            )
        )
        return BuildRecord(
            str(repository),
            None if tag is None else str(tag),
            Digest(str(image_id)),
            None if created is None else str(created),
            str(ref),
            layers,
            float(str(recorded_at)),
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def record_build(
    store: HistoryStore,
    image: Image,
    *,
    ref: str | None = None,
    base_layer_count: int | None = None,
) -> bool:
    """Record an analysed image in the history (what inspect, diff, suggest and check call).

    ``ref`` is the reference the user gave (names the repository when the image has no repo
    tags); ``base_layer_count`` when a Dockerfile or ``--base`` decided it. False when the
    repository already had this image id.
    """
    return store.record(build_record(image, ref=ref, base_layer_count=base_layer_count))


__all__ = [
    "HISTORY_FILENAME",
    "HISTORY_MIGRATIONS",
    "HistoryStore",
    "base_flags",
    "build_record",
    "default_history_path",
    "record_build",
    "repository_name",
    "repository_of",
    "repository_of_name",
]
