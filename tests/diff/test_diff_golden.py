"""Golden snapshots of ``diff`` text (width 100, no colour), JSON and Markdown.

Regenerate after an intended change with ``pytest tests/diff --snapshot-update`` and review the
files under tests/diff/__snapshots__.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from diffkit import Cli, JsonSnapshot, MarkdownSnapshot, TextSnapshot
from syrupy.assertion import SnapshotAssertion

PAIRS = [("v1", "v2"), ("v1", "v3")]


@pytest.fixture(autouse=True)
def _in_archive_dir(app_archives: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(app_archives)  # refs are relative: the output does not name tmp paths
    monkeypatch.setenv("COLUMNS", "100")


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_text(old: str, new: str, run_cli: Cli, snapshot: SnapshotAssertion) -> None:
    code, out, _ = run_cli("diff", f"{old}.tar", f"{new}.tar")
    assert code == 0
    assert out == snapshot(extension_class=TextSnapshot)


def test_text_at_80_columns(
    run_cli: Cli, monkeypatch: pytest.MonkeyPatch, snapshot: SnapshotAssertion
) -> None:
    """Narrow terminals keep every figure whole: instructions give way, numbers do not."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_cli("diff", "v1.tar", "v3.tar")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    assert out == snapshot(extension_class=TextSnapshot)


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_json(old: str, new: str, run_cli: Cli, snapshot: SnapshotAssertion) -> None:
    code, out, _ = run_cli("diff", f"{old}.tar", f"{new}.tar", "--json")
    assert code == 0
    doc = json.loads(out)
    doc["tool"]["version"] = "X"
    assert json.dumps(doc, indent=2) + "\n" == snapshot(extension_class=JsonSnapshot)


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_markdown(old: str, new: str, run_cli: Cli, snapshot: SnapshotAssertion) -> None:
    code, out, _ = run_cli("diff", f"{old}.tar", f"{new}.tar", "--markdown", "--semantic")
    assert code == 0
    assert out == snapshot(extension_class=MarkdownSnapshot)
