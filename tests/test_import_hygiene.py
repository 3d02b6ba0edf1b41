"""The core stays headless: model, tree, analysis, layers and sources import no UI code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("textual", "rich", "docker", "humanize", "requests")


@pytest.mark.parametrize(
    "module,allowed",
    [
        ("layerscope", ()),
        ("layerscope.api", ()),
        ("layerscope.model", ()),
        ("layerscope.errors", ()),
        ("layerscope.tree", ()),
        ("layerscope.analysis", ()),
        ("layerscope.layers", ()),
        ("layerscope.refs", ()),
        ("layerscope.sources", ()),
        ("layerscope.sources.archive", ()),
        ("layerscope.sources.daemon", ("docker", "requests")),  # the SDK brings requests
        # every command's parser is built at start-up: suggest's --prove options come from here
        ("layerscope.commands.prove", ()),
        ("layerscope.commands.inspect", ()),
        # inspect --json words its suggestions with render.suggest: sizes, but no rich
        ("layerscope.render.suggest", ("humanize",)),
    ],
)
def test_module_imports_no_presentation_or_daemon_libraries(
    module: str, allowed: tuple[str, ...]
) -> None:
    code = (
        f"import json, sys; import {module}; "
        f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout)) - set(allowed)
    assert not loaded, f"{module} pulls in {sorted(loaded)}"


def test_model_and_analysis_do_no_io_imports() -> None:
    code = (
        "import sys; import layerscope.analysis, layerscope.tree, layerscope.model; "
        "bad = [m for m in ('sqlite3', 'socket', 'urllib.request', 'http.client', 'subprocess') "
        "if m in sys.modules and m not in BEFORE]; print(bad)"
    )
    code = "import sys; BEFORE = set(sys.modules); " + code
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_load_no_presentation_or_daemon_libraries() -> None:
    """Every name of ``layerscope.__all__`` resolves without the UI, the SDK or the HTTP client."""
    code = (
        "import json, sys, layerscope; [getattr(layerscope, n) for n in layerscope.__all__]; "
        f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_inspect_json_imports_only_its_own_command(tmp_path: Path) -> None:
    """A run builds the parser of its own command alone: ``inspect --json`` does not import the
    other commands, nor what only ``--prove`` needs (builds, build logs)."""
    demo = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "demo-app.tar"
    code = (
        "import json, sys; from layerscope.cli import main; "
        f"code = main(['inspect', {str(demo)!r}, '--json', '-q', '--output', "
        f"{str(tmp_path / 'out.json')!r}]); "
        "print(json.dumps([code, sorted(sys.modules)]))"
    )
    env = {
        **os.environ,
        "LAYERSCOPE_CACHE_DIR": str(tmp_path / "cache"),
        "LAYERSCOPE_DATA_DIR": str(tmp_path / "data"),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    code_, modules = json.loads(out.stdout)
    assert code_ == 0 and json.loads((tmp_path / "out.json").read_text())["layers"]
    commands = {m for m in modules if m.startswith("layerscope.commands.")}
    others = {f"layerscope.commands.{name}" for name in ("diff", "suggest", "history", "check")}
    others |= {f"layerscope.commands.{name}" for name in ("cache", "report", "scan", "prove")}
    assert "layerscope.commands.inspect" in commands and not commands & others
    for prove_only in ("layerscope.analysis.prove", "layerscope.buildlogs"):
        assert prove_only not in modules
