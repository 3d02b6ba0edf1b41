"""The build-history schema: one ordered list of migrations, run by both engines.

Each step is plain SQL with three type words filled in per engine, so SQLite and PostgreSQL
hold the same tables, columns and version numbers (``meta.schema_version``):

    word    meaning          SQLite                  PostgreSQL
    {id}    the builds key   ``INTEGER PRIMARY KEY`` ``BIGSERIAL PRIMARY KEY``
    {int}   64-bit integer   ``INTEGER``             ``BIGINT``
    {real}  a double         ``REAL``                ``DOUBLE PRECISION``

Statements use ``?`` placeholders; the PostgreSQL backend turns them into ``%s``. Append a
step with the next version; never change one that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

ENGINES = ("sqlite", "postgresql")

_TYPES = {
    "sqlite": {"id": "INTEGER PRIMARY KEY", "int": "INTEGER", "real": "REAL"},
    "postgresql": {"id": "BIGSERIAL PRIMARY KEY", "int": "BIGINT", "real": "DOUBLE PRECISION"},
}


@dataclass(frozen=True, slots=True)
class SchemaStep:
    """One migration: statements run in the migrating transaction, in order."""

    version: int
    name: str
    statements: tuple[str, ...]

    def sql(self, engine: str) -> tuple[str, ...]:
        """The statements for ``engine`` (``sqlite`` or ``postgresql``)."""
        return tuple(statement.format(**_TYPES[engine]) for statement in self.statements)


HISTORY_SCHEMA: tuple[SchemaStep, ...] = (
    SchemaStep(
        1,
        "build records",
        (
            """CREATE TABLE builds (
                id {id},
                repository TEXT NOT NULL,
                tag TEXT,
                image_id TEXT NOT NULL,
                created TEXT,
                ref TEXT NOT NULL,
                recorded_at {real} NOT NULL,
                UNIQUE (repository, image_id)
            )""",
            """CREATE TABLE build_layers (
                build_id {int} NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
                idx {int} NOT NULL,
                diff_id TEXT NOT NULL,
                chain_id TEXT NOT NULL,
                size_bytes {int} NOT NULL,
                compressed_size_bytes {int},
                created_by TEXT NOT NULL,
                instruction TEXT NOT NULL,
                history_created TEXT,
                is_base {int},
                PRIMARY KEY (build_id, idx)
            )""",
        ),
    ),
    SchemaStep(
        2,
        "build-log cache flags and durations",
        (
            "ALTER TABLE build_layers ADD COLUMN log_cached {int}",
            "ALTER TABLE build_layers ADD COLUMN log_duration_s {real}",
            "CREATE INDEX builds_image_id ON builds (image_id)",
        ),
    ),
    SchemaStep(
        3,
        "builds by repository and recording time (history NAME, prune)",
        ("CREATE INDEX builds_repository_recorded ON builds (repository, recorded_at)",),
    ),
    SchemaStep(
        4,
        "gzip size estimate of layers stored uncompressed (history's push and pull cost)",
        ("ALTER TABLE build_layers ADD COLUMN gzip_estimate_bytes {int}",),
    ),
)
"""Version n is ``HISTORY_SCHEMA[n - 1]``."""


__all__ = ["ENGINES", "HISTORY_SCHEMA", "SchemaStep"]
