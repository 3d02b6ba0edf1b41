"""Where the build history lives: a store URL, from a flag, the environment or a config file.

    sqlite:///PATH                 the embedded default (``data_dir()/history.sqlite3``);
                                   PATH is absolute (``sqlite:////abs`` reads the same)
    PATH                           a bare path, relative or absolute (still accepted)
    postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=...]   a shared PostgreSQL database

The first of ``--store URL``, ``$LAYERSCOPE_STORE``, ``store = "..."`` in ``.layerscope.toml``
or ``[tool.layerscope]`` of ``pyproject.toml`` (working folder) decides. A PostgreSQL URL
without a password leaves it to libpq (``PGPASSWORD``, ``~/.pgpass``). ``shown`` is the URL
with any password replaced by ``***``: the only form that may appear in a message.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import UsageError

STORE_ENV = "LAYERSCOPE_STORE"
POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """A parsed store URL."""

    engine: str
    """``sqlite`` or ``postgresql``."""
    path: Path | None = None
    """The SQLite file (engine ``sqlite``)."""
    dsn: str | None = None
    """The libpq connection URL, password included (engine ``postgresql``): never print it."""
    password: str | None = None
    """The password the URL carries, to scrub from any message."""
    shown: str = ""
    """The URL or path for messages, without the password."""

    def scrub(self, text: str) -> str:
        """``text`` with the password (plain or URL-quoted) masked."""
        if self.password:
            text = text.replace(self.password, "***")
        if self.dsn and self.password:
            text = text.replace(self.dsn, self.shown)
        return text


def sqlite_location(path: Path | str) -> StoreLocation:
    target = Path(path).expanduser()
    return StoreLocation("sqlite", path=target, shown=str(target))


def parse_store_url(text: str, where: str = "--store") -> StoreLocation:
    """A store URL or bare path; UsageError (one line, no password) when it cannot be one."""
    if not text.strip():
        raise UsageError(f"{where}: empty store URL")
    scheme, sep, _rest = text.partition("://")
    if not sep:
        if text.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise UsageError(
                f"{where} {text.split(':', 1)[0]}:...: a store URL needs '://' "
                "(sqlite:///PATH or postgresql://USER@HOST/DB)"
            )
        return sqlite_location(text)
    scheme = scheme.lower()
    if scheme == "sqlite":
        path = text[len("sqlite://") :]
        if not path.startswith("/") or not path.strip("/"):
            raise UsageError(
                f"{where} {text}: write sqlite:///PATH with an absolute PATH "
                "(a relative path is accepted bare, without sqlite://)"
            )
        return sqlite_location("/" + path.lstrip("/"))
    if scheme in POSTGRES_SCHEMES:
        return _postgres(text, where)
    raise UsageError(
        f"{where}: unknown store URL scheme {scheme!r} (use sqlite:///PATH or "
        "postgresql://USER@HOST[:PORT]/DB)"
    )


def _postgres(text: str, where: str) -> StoreLocation:
    parts = urlsplit(text)
    password = unquote(parts.password) if parts.password is not None else None
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    shown = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    try:
        _port = parts.port
    except ValueError:
        raise UsageError(f"{where} {shown}: the port is not a number") from None
    if not parts.hostname and "host=" not in parts.query:
        raise UsageError(f"{where} {shown}: no host (postgresql://USER@HOST[:PORT]/DB)")
    if not parts.path.strip("/"):
        raise UsageError(f"{where} {shown}: no database name (postgresql://USER@HOST/DB)")
    return StoreLocation("postgresql", dsn=text, password=password or None, shown=shown)


def _configured(cwd: Path) -> tuple[str, str] | None:
    """(value, where) of ``store`` in .layerscope.toml or [tool.layerscope]; None if unset."""
    for name, prefix in ((".layerscope.toml", ()), ("pyproject.toml", ("tool", "layerscope"))):
        path = cwd / name
        if not path.is_file():
            continue
        try:
            data: object = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue  # the budget reader reports a broken file where it matters
        for part in prefix:
            data = data.get(part) if isinstance(data, dict) else None
        if not isinstance(data, dict):
            continue
        value = data.get("store")
        if value is None:
            return None  # the first config file found is the one used
        if not isinstance(value, str):
            raise UsageError(f"{name}: store must be a string (a store URL)")
        return value, f"{name} store"
    return None


def resolve_store(flag: str | None, cwd: Path | None = None) -> StoreLocation:
    """The store to use: ``--store``, else ``$LAYERSCOPE_STORE``, else the config file's
    ``store``, else ``history.sqlite3`` in the data directory."""
    if flag is not None:
        return parse_store_url(flag, "--store")
    env = os.environ.get(STORE_ENV)
    if env:
        return parse_store_url(env, STORE_ENV)
    found = _configured(cwd or Path.cwd())
    if found is not None:
        return parse_store_url(*found)
    from .history import default_history_path

    return sqlite_location(default_history_path())


__all__ = [
    "STORE_ENV",
    "StoreLocation",
    "parse_store_url",
    "resolve_store",
    "sqlite_location",
]
