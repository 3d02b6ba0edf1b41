"""Fixtures of the suggest tests: the real-engine fixtures of tests/integration, re-exported."""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401
    busybox_rootfs,
    docker_cli,
    docker_host,
    shared_dir,
)
