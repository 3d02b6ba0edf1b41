"""dive #684 reproduced with the real engine: ``RUN chown -R`` over a tree, then measured."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run  # tests/integration is on sys.path (rootdir-relative import mode)

from layerscope.cli import main

FILES = 40
FILE_KB = 16
DOCKERFILE = f"""\
FROM scratch
COPY rootfs/ /
RUN mkdir -p /data && for i in $(seq 1 {FILES}); do \
      dd if=/dev/zero of=/data/f$i.bin bs=1024 count={FILE_KB} 2>/dev/null; done
RUN chown -R 1000:1000 /data
"""


@pytest.fixture(scope="module")
def chown_archive(
    docker_cli: str,
    docker_host: str,
    busybox_rootfs: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    ctx = tmp_path_factory.mktemp("chown-ctx")
    shutil.copytree(busybox_rootfs, ctx, symlinks=True, dirs_exist_ok=True)
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    tag = "layerscope-test/chown:1"
    done = subprocess.run(
        [docker_cli, "build", "--network", "none", "-q", "-t", tag, str(ctx)],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        pytest.fail(f"docker build failed:\n{done.stderr[-3000:]}", pytrace=False)
    out = tmp_path_factory.mktemp("chown-save") / "chown.tar"
    run([docker_cli, "save", "-o", out, tag])
    return out


def test_chown_rewrite_is_reclaimable_once(
    chown_archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(chown_archive), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    image = doc["image"]
    duplicate = FILES * FILE_KB * 1024  # the dd-written copies the chown layer hides
    assert image["reclaimable_by_reason"]["metadata_rewrite"] == duplicate
    assert image["reclaimable_bytes"] == duplicate
    chown_layer = len(doc["layers"]) - 1
    items = [i for i in image["reclaimable"] if i["reason"] == "metadata_rewrite"]
    assert len(items) == FILES
    assert {(i["writer"]["index"], i["hider"]["index"]) for i in items} == {
        (chown_layer - 1, chown_layer)
    }
    assert "chown -R 1000:1000 /data" in items[0]["hider"]["created_by"]
    # dive's figure counts the kept copy as well (its issue #684)
    assert image["dive_wasted_bytes"] >= 2 * duplicate
