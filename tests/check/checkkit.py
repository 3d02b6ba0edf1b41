"""Run `layerscope check` as a subprocess (the real CLI, exit codes included)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DEMO = REPO / "fixtures" / "demo" / "demo-app.tar"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_check(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    drop: Sequence[str] = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "CI"),
) -> Run:
    """``layerscope check ARGS`` in ``cwd`` with the test's cache/data dirs and extra ``env``."""
    full = {k: v for k, v in os.environ.items() if k not in drop}
    full["COLUMNS"] = "100"
    full.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "layerscope", "check", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
