"""``suggest --patch-only`` output applies from the current directory with GNU patch and with
git apply, whatever folder the Dockerfile and the build context are in."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from layerscope.cli import main

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo"


def _patch(argv: list[str], err: io.StringIO | None = None) -> str:
    out, err = io.StringIO(), err or io.StringIO()
    code = main(["suggest", *argv, "--patch-only", "--no-cache", "--quiet"], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return out.getvalue()


def _tree(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    shutil.copyfile(DEMO / "Dockerfile", root / "app" / "Dockerfile")
    shutil.copyfile(DEMO / "demo-app.tar", root / "demo-app.tar")
    return root


def _apply(tool: list[str], root: Path, patch: str) -> None:
    done = subprocess.run(tool, input=patch, cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "tool",
    [["patch", "-p1", "--forward", "--batch"], ["git", "apply", "-v", "-"]],
    ids=["patch", "git-apply"],
)
def test_patch_applies_from_a_parent_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: list[str]
) -> None:
    root = _tree(tmp_path / "repo")
    monkeypatch.chdir(root)
    patch = _patch(["demo-app.tar", "--dockerfile", "app/Dockerfile"])
    assert "--- a/app/Dockerfile\n+++ b/app/Dockerfile\n" in patch
    assert "--- /dev/null\n+++ b/app/.dockerignore\n" in patch  # the context is app/
    before = (root / "app" / "Dockerfile").read_text()
    _apply(tool, root, patch)
    after = (root / "app" / "Dockerfile").read_text()
    assert after != before and "rm -rf /var/lib/apt/lists/*" in after
    assert (root / "app" / ".dockerignore").read_text().splitlines() == [".git", "__pycache__"]
    assert not (root / ".dockerignore").exists()


def test_dockerignore_hunk_targets_the_context_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path / "repo")
    (root / ".dockerignore").write_text("*.log\n")
    monkeypatch.chdir(root)
    patch = _patch(["demo-app.tar", "--dockerfile", "app/Dockerfile", "--context", "."])
    assert "--- a/app/Dockerfile\n" in patch
    assert "--- a/.dockerignore\n+++ b/.dockerignore\n" in patch
    _apply(["git", "apply", "-"], root, patch)
    assert (root / ".dockerignore").read_text().splitlines() == ["*.log", ".git", "__pycache__"]
    assert not (root / "app" / ".dockerignore").exists()


def test_context_outside_the_current_directory_names_the_folder_to_apply_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path / "repo")
    monkeypatch.chdir(root / "app")
    err = io.StringIO()
    patch = _patch(["../demo-app.tar", "-f", "Dockerfile", "--context", ".."], err)
    assert f"relative to {root.resolve()}; apply it there" in err.getvalue()
    assert "--- a/app/Dockerfile\n" in patch and "+++ b/.dockerignore\n" in patch
    _apply(["patch", "-p1", "--forward", "--batch"], root, patch)
    assert (root / ".dockerignore").read_text().splitlines() == [".git", "__pycache__"]


def test_context_must_be_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path / "repo")
    monkeypatch.chdir(root)
    out, err = io.StringIO(), io.StringIO()
    argv = ["suggest", "demo-app.tar", "-f", "app/Dockerfile", "--context", "nowhere"]
    assert main(argv, stdout=out, stderr=err) == 2
    assert "--context nowhere: not a directory" in err.getvalue()
