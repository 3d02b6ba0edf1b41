"""The embedded history engine: one SQLite file on the shared ``Database`` machinery.

WAL mode, ``BEGIN IMMEDIATE`` for writes (one writer at a time, others wait and retry), the
migration re-checks the version under the write lock, so several processes opening an empty
file at once migrate it once. A file that is not a database is moved aside (see ``db``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .db import Database, Migration
from .history_schema import HISTORY_SCHEMA, SchemaStep
from .location import StoreLocation

T = TypeVar("T")


def _apply(step: SchemaStep) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in step.sql("sqlite"):
            conn.execute(statement)

    return apply


def sqlite_migrations(schema: tuple[SchemaStep, ...]) -> tuple[Migration, ...]:
    """``schema`` as ``Database`` migrations."""
    return tuple(Migration(step.version, step.name, _apply(step)) for step in schema)


HISTORY_MIGRATIONS = sqlite_migrations(HISTORY_SCHEMA)


class _SqliteSession:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, tuple(params)).fetchall()

    def many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        self._conn.executemany(sql, [tuple(row) for row in params])


class SqliteBackend:
    """History in a SQLite file."""

    def __init__(
        self,
        location: StoreLocation,
        schema: tuple[SchemaStep, ...] = HISTORY_SCHEMA,
        *,
        database: Database | None = None,
    ) -> None:
        self.location = location
        migrations = HISTORY_MIGRATIONS if schema is HISTORY_SCHEMA else sqlite_migrations(schema)
        assert location.path is not None or database is not None
        self.database = database or Database(location.path, migrations=migrations)
        self.warnings = self.database.warnings

    def run(self, work: Callable[[Any], T], *, write: bool = False) -> T:
        return self.database.run(lambda conn: work(_SqliteSession(conn)), write=write)

    @property
    def schema_version(self) -> int:
        return self.database.schema_version

    def close(self) -> None:
        self.database.close()


__all__ = ["HISTORY_MIGRATIONS", "SqliteBackend", "sqlite_migrations"]
