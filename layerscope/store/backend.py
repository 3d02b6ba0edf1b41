"""The seam between the history store and its engines.

``HistoryStore`` writes its SQL once (``?`` placeholders) against ``Session``; each engine has one
backend module that opens, migrates and retries: ``backend_sqlite`` (the embedded default) and
``backend_postgres`` (the only module that imports the PostgreSQL driver). ``open_backend``
picks one from a ``StoreLocation``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from ..errors import UsageError
from .history_schema import HISTORY_SCHEMA
from .location import StoreLocation

T = TypeVar("T")

RETRY_ENV = "LAYERSCOPE_STORE_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 20.0


class Session(Protocol):
    """One open transaction."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run a statement; its result rows (none for a statement without a result)."""
        ...

    def many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        """Run a statement once per parameter row."""
        ...


class Backend(Protocol):
    """An open, migrated history database."""

    location: StoreLocation
    warnings: list[str]

    def run(self, work: Callable[[Session], T], *, write: bool = False) -> T:
        """``work`` in one transaction: all of it or nothing is stored; readers see
        only committed work. Retried as a whole on transient failures, so ``work`` must be
        idempotent (the store's writes are)."""
        ...

    @property
    def schema_version(self) -> int: ...

    def close(self) -> None: ...


def retry_seconds() -> float:
    """How long transient failures are retried (``$LAYERSCOPE_STORE_RETRY_SECONDS``)."""
    text = os.environ.get(RETRY_ENV)
    if not text:
        return DEFAULT_RETRY_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise UsageError(f"{RETRY_ENV}={text}: expected a number of seconds")
    return value


def open_backend(location: StoreLocation) -> Backend:
    """The backend for ``location``, connected and migrated to ``HISTORY_SCHEMA``."""
    if location.engine == "postgresql":
        from .backend_postgres import PostgresBackend

        return PostgresBackend(location, HISTORY_SCHEMA, retry_s=retry_seconds())
    from .backend_sqlite import SqliteBackend

    return SqliteBackend(location, HISTORY_SCHEMA)


__all__ = ["Backend", "DEFAULT_RETRY_SECONDS", "RETRY_ENV", "Session", "open_backend"]
