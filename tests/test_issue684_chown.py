"""dive #684: a tree rewritten by ``chown -R`` is reclaimable once, as a metadata-only rewrite.

dive counts every copy of a re-written path, the one you keep included; layerscope's
``reclaimable_bytes`` counts only the hidden copies. Both figures are checked here: ours against
the arithmetic of the fixture, dive's against the real dive binary.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.testing import write_image
from layerscope.testing.specs import chown_rewrite_spec
from tests.conftest import dive_binary

FILES = 400
FILE_SIZE = 25_000


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = chown_rewrite_spec(files=FILES, file_size=FILE_SIZE, uid=1000, gid=1000)
    return write_image(spec, tmp_path_factory.mktemp("684") / "chown.tar", format="docker-25").path


def _inspect_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    assert main(["inspect", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_reclaimable_is_the_real_duplicate(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _inspect_json(archive, capsys)
    image = doc["image"]
    duplicate = FILES * FILE_SIZE  # layer 0's copies: every byte of them is hidden by layer 1
    assert image["size_bytes"] == 2 * duplicate
    assert image["reclaimable_bytes"] == duplicate
    assert image["reclaimable_by_reason"] == {
        "overwritten": 0,
        "deleted": 0,
        "metadata_rewrite": duplicate,
        "identical_rewrite": 0,
    }
    assert len(image["reclaimable"]) == FILES
    assert {item["reason"] for item in image["reclaimable"]} == {"metadata_rewrite"}
    assert {(item["writer"]["index"], item["hider"]["index"]) for item in image["reclaimable"]} == {
        (0, 1)
    }
    assert image["final_fs_bytes"] == duplicate
    assert doc["layers"][1]["modified"] == FILES


@pytest.mark.dive
def test_dive_counts_the_kept_copy_too(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dive.json"
    subprocess.run(
        [str(dive_binary()), "--source", "docker-archive", str(archive), "--json", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    dive = json.loads(out.read_text())["image"]
    ours = _inspect_json(archive, capsys)["image"]
    # dive's #684 over-count: both copies of every file, i.e. twice the real duplicate
    assert dive["inefficientBytes"] == 2 * FILES * FILE_SIZE
    assert ours["dive_wasted_bytes"] == dive["inefficientBytes"]
    assert ours["efficiency_ratio"] == dive["efficiencyScore"]
    assert ours["reclaimable_bytes"] == dive["inefficientBytes"] // 2
