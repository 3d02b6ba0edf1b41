"""The engine's export is streamed to a spool file, never held in memory.

A 200 MiB image is built FROM scratch (``dd`` in a RUN) and loaded through ``docker://`` in a
child process. The child's heap (``RssAnon`` from /proc, polled every 10 ms, as
benchmarks/_measure.py does) must stay far below the image size. Its ``ru_maxrss`` is reported
but not bounded: the archive parser memory-maps the spool file, and mapped file pages count
towards RSS while being read (they are page cache the kernel can drop, not memory we hold).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
BIG_TAG = "layerscope-test/big:1"
BIG_MIB = 200
CHILD = """
import json, sys
from layerscope.refs import parse_ref
from layerscope.sources import daemon
image = daemon.load(parse_ref(sys.argv[1]))
print(json.dumps({"size_bytes": image.size_bytes, "layers": len(image.layers)}))
"""


@pytest.fixture(scope="module")
def big_image(
    docker_cli: str, docker_host: str, busybox_rootfs: Path, tmp_path_factory: Any
) -> str:
    """A FROM-scratch image whose one RUN writes a 200 MiB file; returns its tag."""
    ctx = tmp_path_factory.mktemp("big-context")
    shutil.copytree(busybox_rootfs / "rootfs", ctx / "rootfs", symlinks=True)
    (ctx / "Dockerfile").write_text(
        "FROM scratch\nCOPY rootfs/ /\n"
        f"RUN dd if=/dev/zero of=/big.bin bs=1048576 count={BIG_MIB} 2>/dev/null\n"
    )
    done = subprocess.run(
        [docker_cli, "build", "-q", "--network", "none", "-t", BIG_TAG, str(ctx)],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        env=dict(os.environ, DOCKER_BUILDKIT="1"),
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"docker build of {BIG_TAG} failed:\n{done.stderr[-4000:]}", pytrace=False)
    return BIG_TAG


def _status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def test_export_is_not_held_in_memory(big_image: str, docker_client: Any) -> None:
    inspect = docker_client.api.inspect_image(big_image)
    assert inspect["Size"] > BIG_MIB << 20  # the engine's own figure: 200 MiB + busybox
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, f"docker://{big_image}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    peaks = {"RssAnon": 0, "RssFile": 0}
    finished = threading.Event()

    def poll() -> None:
        while not finished.wait(0.01):
            for key in peaks:
                value = _status_kib(child.pid, key)
                if value is not None:
                    peaks[key] = max(peaks[key], value)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        out, err = child.communicate(timeout=300)
    finally:
        finished.set()
        poller.join()
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err.decode()[-4000:]
    result = json.loads(out)
    assert result["size_bytes"] == inspect["Size"]  # regular-file bytes = the engine's Size
    image_kib = inspect["Size"] // 1024
    assert 0 < peaks["RssAnon"] < image_kib // 4, (peaks, image_kib)
    # No spool file is left behind.
    cache = Path(os.environ["LAYERSCOPE_CACHE_DIR"])
    assert [p for p in cache.rglob("*") if p.is_file()] == []
