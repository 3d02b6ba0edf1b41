"""The shared history engine: a PostgreSQL database, through psycopg 3.

The only module that imports the driver (``pip install 'layerscope[postgres]'``). Safety under a
fleet of CI jobs:

- every unit of work is one transaction (a reader never sees a half-written build; reads run
  at REPEATABLE READ so a build and its layers come from one snapshot);
- recording is ``INSERT ... ON CONFLICT DO NOTHING`` on (repository, image id), so concurrent
  writers of the same build store it once and a retried transaction adds nothing;
- migrations run under a transaction-scoped advisory lock and re-read the version under it,
  so processes that meet an empty database at once migrate it once;
- connection refused, a server restarting or shutting down, a lost connection, serialization
  failures and deadlocks are retried with exponential backoff and jitter for
  ``$LAYERSCOPE_STORE_RETRY_SECONDS`` (default 20); then ``StoreUnavailableError`` (exit 3).
  Authentication failures and a missing database are not retried.

No message carries the password: every driver text goes through ``StoreLocation.scrub``.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import StoreError, StoreUnavailableError
from .history_schema import HISTORY_SCHEMA, SchemaStep
from .location import StoreLocation

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")

MIGRATION_LOCK = 0x6C617965  # pg_advisory_xact_lock key: "laye"
_PERMANENT = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    "no pg_hba.conf entry",
    "does not exist",
    "permission denied",
    "sslmode",
    "invalid connection option",
    "invalid dsn",
    "invalid uri",
    "invalid integer value",
)
_PERMANENT_STATES = {"28000", "28P01", "3D000", "42501"}
_RETRY_STATES = {"40001", "40P01", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001"}


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "a postgresql:// store needs the PostgreSQL driver: pip install 'layerscope[postgres]'"
        ) from None
    return psycopg


def _reason(exc: BaseException) -> str:
    """The useful part of a driver message, on one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = re.sub(r"\b(FATAL|ERROR):\s+", "", text)
    text = text.replace(" Is the server running on that host and accepting TCP/IP connections?", "")
    # 'connection failed: connection to server at "h" (1.2.3.4), port 5 failed: REASON'
    if " failed: " in text:
        head, _, tail = text.rpartition(" failed: ")
        where = re.search(r'server at "([^"]+)"(?: \([^)]*\))?, port (\d+)', head)
        text = f"{tail} ({where.group(1)}:{where.group(2)})" if where else tail
    return text


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) else None


class _PgSession:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        cursor = self._conn.execute(self._sql(sql), tuple(params))
        return list(cursor.fetchall()) if cursor.description is not None else []

    def many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        if params:
            with self._conn.cursor() as cursor:
                cursor.executemany(self._sql(sql), [tuple(row) for row in params])


class PostgresBackend:
    """History in a PostgreSQL database; one per process."""

    def __init__(
        self,
        location: StoreLocation,
        schema: tuple[SchemaStep, ...] = HISTORY_SCHEMA,
        *,
        retry_s: float = 20.0,
    ) -> None:
        self._psycopg = _driver()
        self.location = location
        self.schema = schema
        self.retry_s = retry_s
        self.warnings: list[str] = []
        self._conn: psycopg.Connection[Any] | None = None
        self._retrying(self._prepare)

    # ------------------------------------------------------------------------- public

    def run(self, work: Callable[[Any], T], *, write: bool = False) -> T:
        def attempt() -> T:
            conn = self._connection()
            with conn.transaction():
                if not write:
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                return work(_PgSession(conn))

        return self._retrying(attempt)

    @property
    def schema_version(self) -> int:
        return self._retrying(lambda: self._read_version(self._connection()))

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except self._psycopg.Error:
                pass
            self._conn = None

    # ------------------------------------------------------------------------- internals

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self.close()
        if self._conn is None:
            timeout = max(2, min(10, int(self.retry_s) or 2))
            self._conn = self._psycopg.connect(
                self.location.dsn,
                autocommit=True,
                connect_timeout=timeout,
                application_name="layerscope",
            )
        return self._conn

    def _retrying(self, step: Callable[[], T]) -> T:
        psycopg = self._psycopg
        deadline = time.monotonic() + self.retry_s
        attempt = 0
        while True:
            try:
                return step()
            except StoreError:
                raise
            except psycopg.Error as exc:
                if self._conn is not None and (self._conn.closed or self._conn.broken):
                    self.close()
                transient = self._transient(exc)
                now = time.monotonic()
                if not transient or now >= deadline:
                    raise self._error(exc, transient) from None
                delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
                time.sleep(max(0.0, min(delay, deadline - now)))
                attempt += 1

    def _transient(self, exc: BaseException) -> bool:
        psycopg = self._psycopg
        state = _sqlstate(exc)
        if state in _PERMANENT_STATES:
            return False
        if state in _RETRY_STATES or (state or "").startswith("08"):
            return True
        if state is None and isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            text = str(exc).lower()
            return not any(word in text for word in _PERMANENT)
        return False

    def _error(self, exc: BaseException, transient: bool) -> StoreError:
        reason = self.location.scrub(_reason(exc))
        where = self.location.shown
        if transient:
            return StoreUnavailableError(
                f"history store {where} unavailable after {self.retry_s:g}s of retries: {reason}"
            )
        if isinstance(exc, self._psycopg.OperationalError):
            return StoreUnavailableError(f"history store {where} refused us: {reason}")
        return StoreError(f"history store {where}: {reason}")

    def _read_version(self, conn: psycopg.Connection[Any]) -> int:
        # a catalog query, not to_regclass(): that reads the session's catalog cache, which
        # need not show a table another migrator committed while we waited for the lock
        row = conn.execute(
            "SELECT count(*) > 0 FROM pg_catalog.pg_tables "
            "WHERE schemaname = current_schema() AND tablename = 'meta'"
        ).fetchone()
        if not row or not row[0]:
            return 0
        found = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            return int(found[0]) if found else 0
        except (TypeError, ValueError):
            return 0

    def _prepare(self) -> None:
        conn = self._connection()
        latest = len(self.schema)
        current = self._read_version(conn)
        if current < latest:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                current = self._read_version(conn)  # again, under the lock: another may have won
                if current == 0:
                    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                for step in self.schema[current:]:
                    for statement in step.sql("postgresql"):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (str(step.version),),
                    )
                current = max(current, latest)
        if current > latest:
            raise StoreError(
                f"history store {self.location.shown} has schema version {current}, newer than "
                f"this layerscope understands ({latest}); upgrade layerscope"
            )


__all__ = ["MIGRATION_LOCK", "PostgresBackend"]
