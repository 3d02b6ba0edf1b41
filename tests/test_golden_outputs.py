"""Golden snapshots of inspect, suggest, history and cache outputs on the bundled demo image.

Text at 80 and 160 columns, JSON as written for pipes. Regenerate after an intended change with
``pytest tests/test_golden_outputs.py --snapshot-update`` and review the files under
tests/__snapshots__/test_golden_outputs/.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from layerscope.cli import main

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "fixtures" / "demo" / "demo-app.tar"
DEMO_DOCKERFILE = (REPO / "fixtures" / "demo" / "Dockerfile").read_text()


class Golden(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    _file_extension = "txt"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding the demo archive under a stable relative name."""
    shutil.copyfile(DEMO, tmp_path / "demo-app.tar")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*argv: str, columns: str = "100") -> str:
    out, err = io.StringIO(), io.StringIO()
    os.environ["COLUMNS"] = columns
    try:
        code = main(list(argv), stdout=out, stderr=err)
    finally:
        del os.environ["COLUMNS"]
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.mark.parametrize("columns", ["80", "160"])
def test_inspect_text(here: Path, columns: str, snapshot: SnapshotAssertion) -> None:
    assert _run("inspect", "demo-app.tar", "--text", columns=columns) == snapshot(
        extension_class=Golden
    )


def test_inspect_json(here: Path, snapshot: SnapshotAssertion) -> None:
    assert _run("inspect", "demo-app.tar", "--json") == snapshot(extension_class=Golden)


@pytest.mark.parametrize("columns", ["80", "160"])
def test_suggest_text_with_dockerfile(
    here: Path, columns: str, snapshot: SnapshotAssertion
) -> None:
    (here / "Dockerfile").write_text(DEMO_DOCKERFILE)
    text = _run("suggest", "demo-app.tar", "--dockerfile", "Dockerfile", columns=columns)
    assert text == snapshot(extension_class=Golden)


def test_suggest_json_with_dockerfile(here: Path, snapshot: SnapshotAssertion) -> None:
    (here / "Dockerfile").write_text(DEMO_DOCKERFILE)
    text = _run("suggest", "demo-app.tar", "--dockerfile", "Dockerfile", "--json")
    assert text == snapshot(extension_class=Golden)


@pytest.mark.parametrize("columns", ["80", "160"])
def test_history_text(here: Path, columns: str, snapshot: SnapshotAssertion) -> None:
    assert _run("history", "--refs", "demo-app.tar", "demo-app.tar", columns=columns) == snapshot(
        extension_class=Golden
    )


def test_history_json(here: Path, snapshot: SnapshotAssertion) -> None:
    text = _run("history", "--refs", "demo-app.tar", "--json")
    assert text == snapshot(extension_class=Golden)
