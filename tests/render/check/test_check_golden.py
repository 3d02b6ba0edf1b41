"""Golden snapshots of every `check` output format (demo image, a budget, its Dockerfile).

Regenerate after an intended change with ``pytest tests/render/check --snapshot-update`` and
review the files under tests/render/check/__snapshots__.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from tests.check.checkkit import DEMO, run_check
from tests.check.test_check_cli import DEMO_DOCKERFILE

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


def test_markdown_renders_titles_as_written(folder: Path) -> None:
    """Rendered the way GitHub renders a step summary, every suggestion title reads exactly as
    `suggest --json` gives it: `__pycache__` stays a word, not bold "pycache"."""
    run = run_check(["demo-app.tar", "--markdown", "--dockerfile", "Dockerfile"], cwd=folder)
    assert run.code == 1, run.err
    html = MarkdownIt("commonmark").enable("table").render(run.out)
    listed = re.findall(r"<li><strong>(.*?)</strong>", html)
    suggested = subprocess.run(
        [sys.executable, "-m", "layerscope", "suggest", "demo-app.tar", "--json", "--no-cache"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    titles = [item["title"] for item in json.loads(suggested.stdout)["suggestions"]]
    assert any("__" in t for t in titles)  # the demo has a __pycache__ suggestion
    assert listed and all(html_lib.unescape(t) in titles for t in listed)
    assert "<strong>pycache</strong>" not in html and "<em>" not in html
