"""Acceptance: the gzip estimate of a real engine's ``docker save`` against real gzip blobs.

The engine builds an image FROM scratch (busybox-static, then ~9 MiB of data: source-like text,
a binary "wheel", a zero-filled file); ``docker save`` stores its layers uncompressed, and
``skopeo copy`` of the same archive to an OCI layout gzips them. For each layer, layerscope's
estimate (read from the docker-save archive) is compared with

- the layer tar's gzip size at level 6, computed here with Python's zlib (what ``docker push``
  sends is Go's gzip at level 6): within 6% (tests/test_gzip_estimate.py says why);
- the gzip blob skopeo wrote for the same diff_id: within 15%. skopeo (containers/image) gzips
  with klauspost/pgzip at its default level, a different deflate implementation and level than
  zlib's 6 (its level 5 is a faster matcher; pgzip compresses 1 MiB blocks in parallel), so its
  blobs differ from zlib's by several percent on text; 15% holds that difference and the
  estimate's own error with room, and still fails for an estimate that is not gzip at all (the
  uncompressed tar is 2-4x these blobs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import uuid
import zlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from layerscope.sources import load_image
from layerscope.testing import Synthetic
from layerscope.testing.content import iter_content
from tests.registry.conftest import skopeo  # noqa: F401 - the fixture: skopeo must be installed

pytestmark = pytest.mark.docker

DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
COPY data/ /data/
RUN dd if=/dev/zero of=/data/zeros.img bs=1024 count=2048 2>/dev/null
"""


def run(args: Sequence[str | os.PathLike[str]], env: dict[str, str] | None = None) -> str:
    argv = [os.fspath(a) for a in args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env,
                          stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-4000:]}",
                    pytrace=False)  # fmt: skip
    return done.stdout


def write_content(path: Path, content: Synthetic) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for chunk in iter_content(content):
            out.write(chunk)


def gzip6(data: bytes) -> int:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return len(packer.compress(data)) + len(packer.flush())


def saved_layer_tars(path: Path) -> dict[str, bytes]:
    """diff_id -> layer tar bytes of a docker-save archive, read with tarfile (not layerscope)."""
    import hashlib
    import json

    out: dict[str, bytes] = {}
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        for name in manifest[0]["Layers"]:
            data = tar.extractfile(name).read()  # type: ignore[union-attr]
            out["sha256:" + hashlib.sha256(data).hexdigest()] = data
    return out


def test_estimates_of_a_docker_save_match_gzip_blobs_of_the_same_image(
    docker_cli: str, docker_host: str, busybox_rootfs: Path, skopeo: str, tmp_path: Path
) -> None:
    ctx = tmp_path / "ctx"
    shutil.copytree(busybox_rootfs, ctx, symlinks=True)
    for i in range(160):
        write_content(ctx / "data" / "src" / f"m{i:03d}.py",
                      Synthetic(25_000 + 997 * i, f"src-{i}", "text"))  # fmt: skip
    write_content(ctx / "data" / "wheel.so", Synthetic(3 << 20, "wheel", "binary"))
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    tag = f"layerscope-test/gzip-estimate:{uuid.uuid4().hex[:12]}"
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    run([docker_cli, "build", "--network", "none", "--progress", "plain", "-t", tag, ctx], env)
    try:
        saved = tmp_path / "saved.tar"
        run([docker_cli, "save", "-o", saved, tag])
    finally:
        run([docker_cli, "rmi", "-f", tag])
    layout = tmp_path / "oci"
    run([skopeo, "--insecure-policy", "copy", "-q", f"docker-archive:{saved}", f"oci:{layout}:app"])

    plain = load_image(f"docker-archive:{saved}")
    gzipped = load_image(f"oci:{layout}:app")
    tars = saved_layer_tars(saved)
    blobs = {layer.diff_id: layer for layer in gzipped.layers}
    assert [layer.diff_id for layer in plain.layers] == list(blobs) == list(tars)
    assert max(len(t) for t in tars.values()) > 8 << 20  # the data layer is sampled
    for layer in plain.layers:
        estimate = layer.gzip_estimate_bytes
        blob = blobs[layer.diff_id]
        assert layer.compression == "none" and blob.compression == "gzip"
        assert estimate is not None and blob.compressed_size_bytes is not None
        tar = tars[layer.diff_id]
        slack = len(tar) // 2000  # zero-filled stretches: ~1000:1, block overhead dominates
        truth = gzip6(tar)
        assert abs(estimate - truth) <= 0.06 * truth + slack, (layer.index, estimate, truth)
        skopeo_bytes = blob.compressed_size_bytes
        print(f"layer {layer.index}: tar {len(tar)}, estimate {estimate}, zlib-6 {truth} "
              f"({(estimate - truth) / truth:+.2%}), skopeo gzip {skopeo_bytes} "
              f"({(estimate - skopeo_bytes) / skopeo_bytes:+.2%})")  # fmt: skip
        assert abs(estimate - skopeo_bytes) <= 0.15 * skopeo_bytes + slack, (
            layer.index, estimate, skopeo_bytes,
        )  # fmt: skip
