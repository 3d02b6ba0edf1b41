"""dive parity on a real-world tree built by the real engine: Python packages, deleted and
re-moded in later RUN steps. dive 0.13.1 itself is the oracle for every dive-compatible figure."""

from __future__ import annotations

import json
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
from conftest import run  # tests/integration is on sys.path (rootdir-relative import mode)

from layerscope.cli import main
from tests.conftest import dive_binary

PACKAGES = ("rich", "textual", "networkx", "pygments", "docker")
"""Packages of the test environment itself: thousands of real files, deep trees, __pycache__."""
SITE = "/usr/lib/python3/site-packages"
DOCKERFILE = f"""\
FROM scratch
COPY rootfs/ /
COPY site/ {SITE}/
RUN rm -rf {SITE}/textual {SITE}/docker
RUN chmod -R g+w {SITE}/rich
RUN find {SITE} -name __pycache__ -type d -prune -exec rm -rf {{}} +
"""


@pytest.fixture(scope="module")
def packages_archive(docker_cli: str, docker_host: str, busybox_rootfs: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Path:  # fmt: skip
    ctx = tmp_path_factory.mktemp("packages-ctx")
    shutil.copytree(busybox_rootfs, ctx, symlinks=True, dirs_exist_ok=True)
    (ctx / "rootfs" / "bin" / "find").symlink_to("busybox")
    site = Path(sysconfig.get_paths()["purelib"])
    for name in PACKAGES:
        if not (site / name).is_dir():
            pytest.fail(f"{name} is not installed in the test environment ({site})")
        shutil.copytree(site / name, ctx / "site" / name, symlinks=True)
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    build = [docker_cli, "build", "--network", "none", "-q", "-t", "layerscope-test/packages:1"]
    done = subprocess.run(
        [*build, str(ctx)], capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        pytest.fail(f"docker build failed:\n{done.stderr[-3000:]}", pytrace=False)
    out = tmp_path_factory.mktemp("packages-save") / "packages.tar"
    run([docker_cli, "save", "-o", out, "layerscope-test/packages:1"])
    return out


@pytest.mark.dive
def test_dive_figures_equal_dives_own(packages_archive: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    report = tmp_path / "dive.json"
    dive_cmd = [str(dive_binary()), "--source", "docker-archive", str(packages_archive)]
    subprocess.run([*dive_cmd, "--json", str(report)], check=True, capture_output=True, timeout=600)
    dive = json.loads(report.read_text())
    assert main(["inspect", str(packages_archive), "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    assert [layer["size_bytes"] for layer in ours["layers"]] == [
        layer["sizeBytes"] for layer in dive["layer"]
    ]
    assert ours["image"]["size_bytes"] == dive["image"]["sizeBytes"]
    assert ours["image"]["dive_wasted_bytes"] == dive["image"]["inefficientBytes"]
    assert ours["image"]["efficiency_ratio"] == dive["image"]["efficiencyScore"]
    # every stored byte is either visible in the final filesystem or reclaimable, once
    image = ours["image"]
    assert image["final_fs_bytes"] + image["reclaimable_bytes"] == image["size_bytes"]
    reasons = image["reclaimable_by_reason"]
    assert reasons["deleted"] > 0 and reasons["metadata_rewrite"] > 0
    # the chmod layer rewrote exactly the rich package: its bytes are the metadata rewrite
    chmod_layer = ours["layers"][3]  # rootfs, site, rm, chmod, find
    assert reasons["metadata_rewrite"] == chmod_layer["size_bytes"]
