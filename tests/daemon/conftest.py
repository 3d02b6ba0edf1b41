"""Fixtures for the daemon source: the real engine and images of tests/integration/conftest.py."""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401 - re-exported as fixtures
    BuiltImage,
    app_image,
    buildkit_image,
    built_images,
    busybox_rootfs,
    docker_cli,
    docker_client,
    docker_host,
    run,
    shared_dir,
)
