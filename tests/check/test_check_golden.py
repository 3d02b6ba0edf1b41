"""Golden snapshots of every `check` output format (demo image, a budget, its Dockerfile).

Regenerate after an intended change with ``pytest tests/check --snapshot-update`` and review the
files under tests/check/__snapshots__.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from .checkkit import DEMO, run_check
from .test_check_cli import DEMO_DOCKERFILE

BUDGET = """\
[rules]
max_size = "2MB"
max_layer_size = { threshold = "600kB", severity = "warning" }
max_layers = 20
max_reclaimable_ratio = 0.25
[rules.forbidden_paths]
threshold = ["**/.git/**", "**/*.pem", "**/id_rsa"]
[rules.required_labels]
threshold = ["org.opencontainers.image.source", "org.opencontainers.image.version"]
"""


class Golden(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    _file_extension = "txt"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "demo-app.tar").symlink_to(DEMO)
    (tmp_path / "Dockerfile").write_text(DEMO_DOCKERFILE)
    (tmp_path / ".layerscope.toml").write_text(BUDGET)
    return tmp_path


@pytest.mark.parametrize("fmt", ["json", "junit", "sarif", "markdown", "github"])
def test_format(fmt: str, folder: Path, snapshot: SnapshotAssertion) -> None:
    run = run_check(
        ["demo-app.tar", "--format", fmt, "--dockerfile", "Dockerfile", "--no-cache"], cwd=folder
    )
    assert run.code == 1, run.err
    assert run.out == snapshot(extension_class=Golden)


@pytest.mark.parametrize("columns", ["80", "160"])
def test_text(columns: str, folder: Path, snapshot: SnapshotAssertion) -> None:
    run = run_check(
        ["demo-app.tar", "--dockerfile", "Dockerfile", "--no-cache"],
        cwd=folder,
        env={"COLUMNS": columns},
    )
    assert run.code == 1, run.err
    assert run.out == snapshot(extension_class=Golden)
