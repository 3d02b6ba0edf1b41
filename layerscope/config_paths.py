"""Where layerscope keeps its cache and its data (design.md, Conventions 4)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from layerscope.errors import StoreError

APP_NAME = "layerscope"
CACHE_DIR_ENV = "LAYERSCOPE_CACHE_DIR"
DATA_DIR_ENV = "LAYERSCOPE_DATA_DIR"


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


__all__ = ["APP_NAME", "CACHE_DIR_ENV", "DATA_DIR_ENV", "cache_dir", "data_dir"]
