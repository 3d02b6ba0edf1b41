"""Build records for ``layerscope history``, in the store a URL names (``location``).

``data_dir()/history.sqlite3`` by default, so wiping the cache never loses history;
``--store URL`` / ``$LAYERSCOPE_STORE`` / the config's ``store`` name another SQLite file or a
shared PostgreSQL database. The SQL here is written once for both engines (``backend``); the
schema is ``history_schema.HISTORY_SCHEMA``.
Each analysed image is recorded once per repository: repository, tag, image id, creation time,
and per layer its diff_id, chain ID, sizes and instruction; build logs add the builder's cached
flag and step duration per layer.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..dockerfile.created_by import (
    BUILDKIT_COMMENT,
    BUILDKIT_EXPORTER_COMMENT,
    instruction_from_created_by,
)
from ..errors import BadReferenceError
from ..model import BuildRecord, Digest, Image, LayerRecord
from ..refs import parse_ref, split_name
from .backend import Backend, Session, open_backend
from .backend_sqlite import HISTORY_MIGRATIONS, SqliteBackend
from .db import Database
from .location import StoreLocation, parse_store_url, resolve_store, sqlite_location

HISTORY_FILENAME = "history.sqlite3"


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
            compressed_size_bytes=layer.pushed_blob_bytes,
            # what a push of it would send instead, estimated from a sample (None when unknown)
            gzip_estimate_bytes=layer.gzip_estimate_bytes if layer.compression == "none" else None,
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
    "history_created, is_base, log_cached, log_duration_s, gzip_estimate_bytes"
)


def _bool(value: object) -> bool | None:
    return None if value is None else bool(value)


class HistoryStore:
    """Build records of every repository; one instance per process (threads may share)."""

    def __init__(self, store: StoreLocation | Path | str | Database | None = None) -> None:
        """Open (creating or migrating) the history store: a location, a store URL or bare
        path, an open SQLite ``Database``, or None for the configured store (see
        ``location.resolve_store``)."""
        self._backend: Backend
        if isinstance(store, Database):
            self._backend = SqliteBackend(sqlite_location(store.path), database=store)
            return
        if isinstance(store, Path):
            location = sqlite_location(store)
        elif isinstance(store, str):
            location = parse_store_url(store)
        elif store is None:
            location = resolve_store(None)
        else:
            location = store
        self._backend = open_backend(location)

    @property
    def location(self) -> StoreLocation:
        return self._backend.location

    @property
    def shown(self) -> str:
        """The store's URL or path, without any password: for messages."""
        return self._backend.location.shown

    @property
    def engine(self) -> str:
        return self._backend.location.engine

    @property
    def database(self) -> Database:
        """The SQLite database (SQLite stores only)."""
        if not isinstance(self._backend, SqliteBackend):
            raise TypeError("not a SQLite history store")
        return self._backend.database

    @property
    def path(self) -> Path:
        return self.database.path

    @property
    def schema_version(self) -> int:
        return self._backend.schema_version

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._backend.warnings)

    def record(self, build: BuildRecord) -> bool:
        """Store a build; False when this repository already has this image id (nothing added).
        Build-log data the record carries fills layers that have none yet."""
        return self.record_many([build]) == 1

    def record_many(self, builds: Iterable[BuildRecord], *, batch: int = 200) -> int:
        """Store builds, ``batch`` per transaction; the number that were new."""
        added = 0
        pending = list(builds)
        for start in range(0, len(pending), batch):
            chunk = tuple(pending[start : start + batch])
            added += self._backend.run(functools.partial(_write, builds=chunk), write=True)
        return added

    def attach_build_log(self, build: BuildRecord) -> None:
        """Store the build-log flags and durations ``build`` carries (for every repository that
        recorded its image id)."""
        self._backend.run(lambda session: _write_logs(session, build), write=True)

    def repositories(self) -> tuple[tuple[str, int], ...]:
        """Every recorded repository with its number of builds, by name."""
        rows = self._backend.run(
            lambda session: session.rows(
                "SELECT repository, count(*) FROM builds GROUP BY repository ORDER BY repository"
            )
        )
        return tuple((str(name), int(n)) for name, n in rows)

    def builds(self, repository: str | None) -> tuple[BuildRecord, ...]:
        """The builds recorded for ``repository`` (a name like ``app`` or ``host/app:tag`` is
        normalised; a repository recorded under a non-name is matched verbatim), in recording
        order (``analysis.cache`` orders them by creation time). None: every repository's."""
        names = _names(repository) if repository is not None else ()
        return tuple(self._backend.run(lambda session: _read_builds(session, names)))

    def prune(
        self, repository: str | None, *, keep: int | None = None, before: float | None = None
    ) -> tuple[int, int]:
        """Delete builds: all but the ``keep`` most recently recorded of each repository,
        and/or those recorded before ``before`` (epoch seconds). (removed, left) counts."""
        names = _names(repository) if repository is not None else ()

        def work(session: Session) -> tuple[int, int]:
            where, params = _scope(names)
            rows = session.rows(
                f"SELECT id, repository, recorded_at FROM builds {where} "
                "ORDER BY repository, recorded_at DESC, id DESC",
                params,
            )
            doomed: list[int] = []
            seen: dict[str, int] = {}
            for build_id, repo, recorded_at in rows:
                rank = seen.get(repo, 0)
                seen[repo] = rank + 1
                if (keep is not None and rank >= keep) or (
                    before is not None and float(recorded_at) < before
                ):
                    doomed.append(int(build_id))
            ids = [(build_id,) for build_id in doomed]
            session.many("DELETE FROM build_layers WHERE build_id = ?", ids)
            session.many("DELETE FROM builds WHERE id = ?", ids)
            return len(doomed), len(rows) - len(doomed)

        return self._backend.run(work, write=True)

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _names(repository: str) -> tuple[str, ...]:
    names = {repository}
    normalised = repository_name(repository)
    if normalised is not None:
        names.add(normalised)
    return tuple(sorted(names))


def _scope(names: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    if not names:
        return "", ()
    return f"WHERE repository IN ({', '.join('?' for _ in names)})", tuple(names)


def _write(session: Session, *, builds: Sequence[BuildRecord]) -> int:
    added = 0
    for build in builds:
        inserted = session.rows(
            "INSERT INTO builds (repository, tag, image_id, created, ref, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repository, image_id) DO NOTHING "
            "RETURNING id",
            (build.repository, build.tag, build.image_id, build.created, build.ref,
             build.recorded_at),
        )  # fmt: skip
        if not inserted:
            if build.has_build_log:
                _write_logs(session, build)
            continue
        added += 1
        build_id = int(inserted[0][0])
        session.many(
            f"INSERT INTO build_layers (build_id, {_LAYER_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (build_id, layer.index, layer.diff_id, layer.chain_id, layer.size_bytes,
                 layer.compressed_size_bytes, layer.created_by, layer.instruction,
                 layer.history_created, _int(layer.is_base), _int(layer.log_cached),
                 layer.log_duration_seconds, layer.gzip_estimate_bytes)
                for layer in build.layers
            ],
        )  # fmt: skip
    return added


def _write_logs(session: Session, build: BuildRecord) -> None:
    session.many(
        "UPDATE build_layers SET log_cached = ?, log_duration_s = ? "
        "WHERE idx = ? AND build_id IN (SELECT id FROM builds WHERE image_id = ?)",
        [
            (_int(layer.log_cached), layer.log_duration_seconds, layer.index, build.image_id)
            for layer in build.layers
            if layer.log_cached is not None or layer.log_duration_seconds is not None
        ],
    )


def _read_builds(session: Session, names: Sequence[str]) -> list[BuildRecord]:
    where, params = _scope(names)
    rows = session.rows(
        "SELECT id, repository, tag, image_id, created, ref, recorded_at FROM builds "
        f"{where} ORDER BY recorded_at, id",
        params,
    )
    layers: dict[int, list[LayerRecord]] = {int(row[0]): [] for row in rows}
    if not rows:
        return []
    for r in session.rows(
        f"SELECT build_id, {_LAYER_COLUMNS} FROM build_layers WHERE build_id IN "
        f"(SELECT id FROM builds {where}) ORDER BY build_id, idx",
        params,
    ):
        found = layers.get(int(r[0]))
        if found is not None:
            found.append(_layer(r[1:]))
    return [
        BuildRecord(
            str(repository),
            None if tag is None else str(tag),
            Digest(str(image_id)),
            None if created is None else str(created),
            str(ref),
            tuple(layers[int(build_id)]),
            float(str(recorded_at)),
        )
        for build_id, repository, tag, image_id, created, ref, recorded_at in rows
    ]


def _layer(r: Sequence[Any]) -> LayerRecord:
    # both drivers return int, str, float or None for these columns: only flags need mapping
    # (a thousand builds of 30 layers are 30,000 of these)
    return LayerRecord(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
        None if r[8] is None else bool(r[8]),
        None if r[9] is None else bool(r[9]),
        None if r[10] is None else float(r[10]),
        r[11],  # NULL in rows recorded before estimates were kept: the cost is then unknown
    )  # fmt: skip


def _int(value: bool | None) -> int | None:
    return None if value is None else int(value)


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
    "StoreLocation",
    "base_flags",
    "build_record",
    "default_history_path",
    "record_build",
    "repository_name",
    "repository_of",
    "repository_of_name",
]
