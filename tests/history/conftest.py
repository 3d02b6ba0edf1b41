"""History tests: the real-engine fixtures, and ``history`` registered in the CLI."""

from __future__ import annotations

import pytest

from layerscope import cli
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
