"""Where layerscope keeps its cache and its data (design.md, Conventions 4)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from layerscope.errors import ConfigError, StoreError

APP_NAME = "layerscope"
CACHE_DIR_ENV = "LAYERSCOPE_CACHE_DIR"
DATA_DIR_ENV = "LAYERSCOPE_DATA_DIR"
CACHE_MAX_ENV = "LAYERSCOPE_CACHE_MAX"
DEFAULT_CACHE_MAX_BYTES = 2 * 1000**3
"""The layer index cache keeps at most this many bytes of stored layer indexes (2 GB)."""
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)


def _directory(env_name: str, default: str) -> Path:
    override = os.environ.get(env_name, "").strip()
    path = Path(os.path.expanduser(override)) if override else Path(default)
    path = Path(os.path.abspath(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create directory {path}: {exc.strerror or exc}") from exc
    if not path.is_dir():
        raise StoreError(f"{path} is not a directory (set {env_name} to a directory)")
    return path


def cache_dir() -> Path:
    """The layer index cache directory, created if missing.

    ``$LAYERSCOPE_CACHE_DIR`` when set, else the platform's user cache directory.
    """
    return _directory(CACHE_DIR_ENV, platformdirs.user_cache_dir(APP_NAME))


def data_dir() -> Path:
    """The directory for build history and other kept data, created if missing.

    ``$LAYERSCOPE_DATA_DIR`` when set, else the platform's user data directory.
    """
    return _directory(DATA_DIR_ENV, platformdirs.user_data_dir(APP_NAME))


def cache_max_bytes(value: str | None = None) -> int:
    """The layer index cache's size bound: ``value``, else ``$LAYERSCOPE_CACHE_MAX`` (``500MB``,
    ``2GiB``, ``0`` for no bound), else 2 GB. Beyond it the least recently used layers are
    dropped."""
    text = (os.environ.get(CACHE_MAX_ENV, "") if value is None else value).strip()
    if not text:
        return DEFAULT_CACHE_MAX_BYTES
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"{CACHE_MAX_ENV}={text!r} is not a size like 500MB, 2GiB or 0")
    unit = match.group(2).lower().rstrip("b")
    base = 1024 if unit.endswith("i") else 1000
    power = "kmgt".find(unit[:1]) + 1 if unit else 0
    return int(float(match.group(1)) * base**power)


__all__ = [
    "APP_NAME",
    "CACHE_DIR_ENV",
    "CACHE_MAX_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_CACHE_MAX_BYTES",
    "cache_dir",
    "cache_max_bytes",
    "data_dir",
]
