"""``history NAME --tags GLOB`` against a real registry (Debian's docker-registry)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from layerscope import cli
from tests.history.histkit import Inputs, write
from tests.registry.conftest import Registry

pytestmark = pytest.mark.usefixtures("history_cli")

CHANGED = {"main.py": b"print('hello')\n", "util.py": b"X = 1\n"}


def test_tags_glob_series(anon_registry: Registry, tmp_path: Path) -> None:
    builds = [
        ("build-1", write(tmp_path, "b1", "2024-05-01T10:00:00Z", Inputs())),
        ("build-2", write(tmp_path, "b2", "2024-05-02T10:00:00Z", Inputs(sources=CHANGED))),
        ("build-3", write(tmp_path, "b3", "2024-05-03T10:00:00Z",
                          Inputs(sources=CHANGED, requirements=b"flask\n"))),
        ("release", write(tmp_path, "r", "2024-05-04T10:00:00Z", Inputs(base=b"other\n"))),
    ]  # fmt: skip
    for tag, path in builds:
        anon_registry.push(f"docker-archive:{path}", f"team/hist:{tag}")
    out, err = io.StringIO(), io.StringIO()
    name = f"{anon_registry.host}/team/hist"
    code = cli.main(["history", "--json", name, "--tags", "build-*"], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    # the same three builds as in test_history_cli: None, 3/4, 1/4; "release" is not matched
    assert [b["tag"] for b in doc["builds"]] == ["build-1", "build-2", "build-3"]
    assert [b["hit_ratio"] for b in doc["builds"]] == [None, 0.75, 0.25]
    assert doc["builds"][1]["miss"]["reason"] == "files_changed"
    assert {b["repository"] for b in doc["builds"]} == {name}
