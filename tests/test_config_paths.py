"""Tests for layerscope.config_paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.config_paths import cache_dir, data_dir
from layerscope.errors import StoreError


def test_env_overrides_are_created_on_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "c" / "nested"
    data = tmp_path / "d"
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(cache))
    monkeypatch.setenv("LAYERSCOPE_DATA_DIR", str(data))
    assert not cache.exists()
    assert cache_dir() == cache
    assert data_dir() == data
    assert cache.is_dir() and data.is_dir()
    assert cache_dir() == cache  # idempotent


def test_relative_override_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", "rel/cache")
    assert cache_dir() == tmp_path / "rel" / "cache"


def test_xdg_defaults_when_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # platformdirs follows the XDG variables on Linux; point them into tmp_path.
    monkeypatch.delenv("LAYERSCOPE_CACHE_DIR", raising=False)
    monkeypatch.delenv("LAYERSCOPE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xd"))
    assert cache_dir() == tmp_path / "xc" / "layerscope"
    assert data_dir() == tmp_path / "xd" / "layerscope"
    assert (tmp_path / "xc" / "layerscope").is_dir()


def test_override_that_is_a_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("LAYERSCOPE_DATA_DIR", str(blocker))
    with pytest.raises(StoreError):
        data_dir()
    monkeypatch.setenv("LAYERSCOPE_DATA_DIR", str(blocker / "below"))
    with pytest.raises(StoreError, match="cannot create"):
        data_dir()
