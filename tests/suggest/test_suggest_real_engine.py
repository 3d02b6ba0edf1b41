"""Acceptance: a naive Dockerfile built by the real engine, layerscope's patch applied with GNU
patch, the image rebuilt, and the engine's measured size drop compared with the estimate."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.suggest.engine import apply_patch, build, engine_size, make_context, save, suggest_json

BIG_KB = 3072  # written by one RUN, deleted by a later one
CACHE_KB = 1024  # a pip cache directory left behind
GIT_BYTES = 512 * 1024  # .git in the build context, copied by COPY . /app
NAIVE = f"""\
FROM scratch
COPY rootfs/ /
COPY . /app
RUN mkdir -p /root/.cache/pip/http && dd if=/dev/urandom of=/root/.cache/pip/http/wheel \\
    bs=1024 count={CACHE_KB} 2>/dev/null && echo tool > /tool.txt
RUN dd if=/dev/zero of=/big.bin bs=1024 count={BIG_KB} 2>/dev/null
RUN sleep 1 && echo slow > /slow.txt
RUN rm /big.bin
"""


def _pseudo_random(n: int) -> bytes:
    out = bytearray()
    seed = b"layerscope"
    while len(out) < n:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return bytes(out[:n])


@pytest.mark.docker
@pytest.mark.parametrize("buildkit", [True, False], ids=["buildkit", "classic"])
def test_patch_applied_and_rebuilt_shrinks_as_estimated(
    docker_cli: str,
    docker_host: str,
    busybox_rootfs: Path,
    tmp_path: Path,
    buildkit: bool,
) -> None:
    ctx = make_context(
        busybox_rootfs,
        tmp_path / "ctx",
        {
            "Dockerfile": NAIVE.encode(),
            "app.py": b"print('hello')\n",
            ".git/objects/pack/pack-1.pack": _pseudo_random(GIT_BYTES),
        },
    )
    tag = f"layerscope-test/suggest-naive:{'bk' if buildkit else 'classic'}"
    build(docker_cli, ctx, tag + "-before", buildkit=buildkit)
    archive = save(docker_cli, tag + "-before", tmp_path / "before.tar")
    doc = suggest_json([str(archive), "--dockerfile", str(ctx / "Dockerfile")])

    assert doc["schema_version"] == 1
    kinds = {s["kind"]: s for s in doc["suggestions"]}
    # Each finding, with bytes worked out by hand from the Dockerfile above:
    assert kinds["merge_run"]["estimated_saving_bytes"] == BIG_KB * 1024
    assert kinds["same_layer_cleanup"]["estimated_saving_bytes"] == CACHE_KB * 1024
    assert kinds["dockerignore"]["estimated_saving_bytes"] == GIT_BYTES
    assert kinds["reorder_for_cache"]["estimated_saving_bytes"] == 0
    for s in doc["suggestions"]:
        assert "layers" in s and "evidence" in s and "patch" in s
    applied = set(doc["patch_applies"])
    assert {kinds[k]["id"] for k in ("merge_run", "same_layer_cleanup", "dockerignore")} <= applied
    estimate = doc["patch_saving_bytes"]
    assert estimate == (BIG_KB + CACHE_KB) * 1024 + GIT_BYTES

    apply_patch(ctx, doc["patch"])
    assert (ctx / ".dockerignore").read_text().splitlines() == [".git"]
    build(docker_cli, ctx, tag + "-after", buildkit=buildkit)
    drop = engine_size(docker_cli, tag + "-before") - engine_size(docker_cli, tag + "-after")
    assert abs(drop - estimate) <= 0.10 * estimate, (drop, estimate)
    # the reordered file still builds the same files
    assert "COPY . /app" in (ctx / "Dockerfile").read_text().splitlines()[-1]
