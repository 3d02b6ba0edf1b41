"""Fixtures of the proof tests: the real-engine fixtures of tests/integration, re-exported, and
the corpus's base images (Debian via debootstrap, pybase, busybox with stand-in tools)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import (  # noqa: F401
    docker_cli,
    docker_host,
    shared_dir,
)
from tests.prove.kit import ensure_bases


@pytest.fixture(scope="session")
def corpus_bases(docker_cli: str, docker_host: str, shared_dir: Path) -> None:
    """Every base image of the corpus, in the session's engine."""
    ensure_bases(docker_cli, shared_dir)
