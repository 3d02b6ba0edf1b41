"""Fixtures for the build-log tests: real builds by the engine's two builders and buildah."""

# ruff: noqa: F811 - the parameters of real_builds are the imported fixtures
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.dockerfile.realbuilds import RealBuild, real_builds_in
from tests.integration.conftest import (  # noqa: F401 - re-exported as fixtures
    docker_cli,
    docker_host,
    shared_dir,
)


@pytest.fixture(scope="session")
def real_builds(docker_cli: str, docker_host: str, shared_dir: Path) -> Mapping[str, RealBuild]:
    """builder name (classic, buildkit, buildah) -> its builds of realbuilds.APP_DOCKERFILE."""
    return real_builds_in(shared_dir, docker_cli)
