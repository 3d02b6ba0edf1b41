"""Fixtures for the diff tests: the three app images written once, and the CLI with ``diff``."""

from __future__ import annotations

import io
from pathlib import Path

import diffspecs
import pytest
from diffkit import Cli

from layerscope import cli
from layerscope.testing import write_image
from tests.integration.conftest import (  # noqa: F401 - re-exported as fixtures
    busybox_rootfs,
    docker_cli,
    docker_host,
)


@pytest.fixture(scope="session")
def app_archives(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding v1.tar, v2.tar, v3.tar (docker save format) and v1-oci (OCI layout)."""
    out = tmp_path_factory.mktemp("diff-apps")
    for name in ("v1", "v2", "v3"):
        write_image(getattr(diffspecs, name)(), out / f"{name}.tar", "docker-25")
    write_image(diffspecs.v1(), out / "v1-oci", "oci-dir")
    return out


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run ``layerscope ARGS`` in-process: (exit code, stdout, stderr)."""
    if "diff" not in cli.COMMANDS:  # until cli.py registers it
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "diff"))

    def invoke(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(args), stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()

    return invoke
