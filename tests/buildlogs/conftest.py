"""Fixtures for the build-log tests: the dockerfile tests' real builds (engine's two builders
and buildah), built once per session."""

from __future__ import annotations

from tests.dockerfile.conftest import (  # noqa: F401 - re-exported as fixtures
    docker_cli,
    docker_host,
    real_builds,
    shared_dir,
)
