"""History tests: the real-engine fixtures, and ``history`` registered in the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from layerscope import cli
from tests.history.pgkit import PgCluster
from tests.integration.conftest import (  # noqa: F401 - re-exported as fixtures
    busybox_rootfs,
    docker_cli,
    docker_host,
    shared_dir,
)
from tests.registry.conftest import anon_registry, skopeo  # noqa: F401 - re-exported


@pytest.fixture
def history_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sure ``history`` is a subcommand (a no-op once cli.COMMANDS lists it)."""
    if "history" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "history"))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A private PostgreSQL cluster (one per test process), removed at the end."""
    cluster = PgCluster()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Each engine in turn: a fresh store, also made the default through LAYERSCOPE_STORE."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_cluster").create_database()
    monkeypatch.setenv("LAYERSCOPE_STORE", url)
    return url
