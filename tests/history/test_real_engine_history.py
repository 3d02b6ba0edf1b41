"""Acceptance: a rebuild series by the real engine (BuildKit, FROM scratch with busybox-static).

One source file changes before each of three rebuilds. The recorded hit ratios must equal those
computed here, independently, from ``docker image inspect`` RootFS.Layers chain IDs; the miss
must be attributed to the changed file; and applying layerscope's own reorder suggestion (its
patch: dependencies copied and installed before the sources) must hit more often on the same
series of changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from layerscope import cli

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("history_cli")]

ORIGINAL = """\
FROM scratch
COPY rootfs/ /
COPY src/ /src/
RUN mkdir -p /deps && cat /src/requirements.txt > /deps/installed.txt \
 && dd if=/dev/zero of=/deps/blob.bin bs=1024 count=16 2>/dev/null
RUN echo ready > /deps/ready.txt
"""
REORDERED = """\
FROM scratch
COPY rootfs/ /
COPY src/requirements.txt /src/
RUN mkdir -p /deps && cat /src/requirements.txt > /deps/installed.txt \
 && dd if=/dev/zero of=/deps/blob.bin bs=1024 count=16 2>/dev/null
RUN echo ready > /deps/ready.txt
COPY src/ /src/
"""
REBUILDS = 3


def chain_ids(diff_ids: list[str]) -> list[str]:
    """OCI image spec ChainIDs, computed here rather than by layerscope.model."""
    out: list[str] = []
    for diff_id in diff_ids:
        if out:
            diff_id = "sha256:" + hashlib.sha256(f"{out[-1]} {diff_id}".encode()).hexdigest()
        out.append(diff_id)
    return out


def docker(
    cli_path: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([cli_path, *args], capture_output=True, text=True, env=env,
                          timeout=600, stdin=subprocess.DEVNULL)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"docker {' '.join(args)} failed:\n{done.stderr[-4000:]}", pytrace=False)
    return done


def build_series(
    cli_path: str, rootfs: Path, work: Path, name: str, dockerfile: str
) -> list[tuple[str, Path]]:
    """Build once, then rebuild after each change of src/main.py; (tag, build log) per build."""
    ctx = work / name
    shutil.copytree(rootfs, ctx, symlinks=True)
    (ctx / "src").mkdir()
    (ctx / "src" / "requirements.txt").write_text("requests==2.31\n")
    (ctx / "src" / "util.py").write_text("X = 1\n")
    main = ctx / "src" / "main.py"
    (ctx / "Dockerfile").write_text(dockerfile)
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    out: list[tuple[str, Path]] = []
    for n in range(REBUILDS + 1):
        main.write_text(f"print('build {n}')\n")
        tag = f"layerscope-test/history-{name}:b{n}"
        done = docker(cli_path, "build", "--network", "none", "--progress=plain", "-t", tag,
                      str(ctx), env=env)  # fmt: skip
        log = work / f"{name}-b{n}.log"
        log.write_text(done.stderr)  # BuildKit writes its progress to stderr
        out.append((tag, log))
    return out


def expected_ratios(cli_path: str, tags: list[str]) -> list[float | None]:
    chains = [
        chain_ids(json.loads(docker(cli_path, "image", "inspect", "--format",
                                    "{{json .RootFS.Layers}}", tag).stdout))
        for tag in tags
    ]  # fmt: skip
    ratios: list[float | None] = [None]
    for n in range(1, len(chains)):
        hits = sum(
            i < len(chains[n - 1]) and chain == chains[n - 1][i]
            for i, chain in enumerate(chains[n])
        )
        ratios.append(hits / len(chains[n]))
    return ratios


def history_json(*argv: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["history", "--json", *argv], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def test_rebuild_series(
    docker_cli: str, docker_host: str, busybox_rootfs: Path, tmp_path: Path
) -> None:
    original = build_series(docker_cli, busybox_rootfs, tmp_path, "original", ORIGINAL)
    tags = [tag for tag, _ in original]
    want = expected_ratios(docker_cli, tags)
    # by hand: 4 layers; main.py changes in COPY src/ (layer 1), so only the rootfs layer hits
    assert want == [None] + [1 / 4] * REBUILDS
    logs = [f"--build-log=daemon://{tag}={log}" for tag, log in original]
    doc = history_json("--refs", *(f"daemon://{tag}" for tag in tags), *logs)
    builds = doc["builds"]
    assert [b["tag"] for b in builds] == [f"b{n}" for n in range(REBUILDS + 1)]
    assert [b["hit_ratio"] for b in builds] == want
    for build in builds[1:]:
        miss = build["miss"]
        assert miss["reason"] == "files_changed"
        assert miss["layer_index"] == 1 and miss["instruction"] == "COPY src/ /src/"
        content = [p["path"] for p in miss["paths"] if p["change"] != "timestamp"]
        assert content == ["/src/main.py"]
        assert miss["rebuilt_layer_indexes"] == [1, 2, 3]
        assert miss["rebuilt_bytes"] == sum(layer["size_bytes"] for layer in build["layers"][1:])
        # BuildKit's own flags agree with the chain IDs here, and give the rebuilt seconds
        assert [layer["log_cached"] for layer in build["layers"]] == [True, False, False, False]
        assert not any(layer["log_disagrees"] for layer in build["layers"])
        assert miss["rebuilt_seconds"] is not None and miss["rebuilt_seconds"] >= 0
    # recorded in the store: the repository's history says the same
    stored = history_json("layerscope-test/history-original")
    assert [b["hit_ratio"] for b in stored["builds"]] == want

    # layerscope's reorder suggestion for the last build, with the recorded history, as a patch
    dockerfile = tmp_path / "original" / "Dockerfile"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(dockerfile.parent):  # patch paths are relative to the cwd
        code = cli.main(["suggest", f"daemon://{tags[-1]}", "--dockerfile", "Dockerfile",
                         "--json"], stdout=out, stderr=err)  # fmt: skip
    assert code == 0, err.getvalue()
    suggested = json.loads(out.getvalue())
    reorder = [s for s in suggested["suggestions"] if s["kind"] == "reorder_for_cache"]
    # both RUN steps stay cached when only main.py changes: 2 steps x 3 missed builds
    assert len(reorder) == 1 and reorder[0]["estimated_saving_rebuilds"] == 2 * REBUILDS
    assert reorder[0]["estimate_basis"] == "history"
    patch = reorder[0]["patch"]
    applied = subprocess.run(["patch", "-p1", "-o", "-"], input=patch, cwd=dockerfile.parent,
                             capture_output=True, text=True, check=True)  # fmt: skip
    assert applied.stdout == REORDERED  # the reorder worked out by hand above
    reordered = build_series(docker_cli, busybox_rootfs, tmp_path, "reordered", applied.stdout)
    better = expected_ratios(docker_cli, [tag for tag, _ in reordered])
    # by hand: 5 layers; rootfs, requirements, the install and the ready step hit, src/ misses
    assert better == [None] + [4 / 5] * REBUILDS
    doc2 = history_json("--refs", *(f"daemon://{tag}" for tag, _ in reordered))
    got = [b["hit_ratio"] for b in doc2["builds"]]
    assert got == better
    assert all(b > a for a, b in zip(want[1:], got[1:], strict=True))
