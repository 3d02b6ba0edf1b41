"""``layerscope scan`` of a local registry with >= 50 images over >= 10 bases.

Fills a fresh ``docker-registry`` (tests/registry/scanfill.py: bases with versions, apps on
them, one multi-platform base family) and measures, each in a fresh child process with an empty
cache directory:

- ``scan --workers 1``, ``--workers 2`` and ``--dask`` (a scheduler and two single-thread
  workers started here as processes on loopback): wall time and the bytes they read;
- the floor: each unique layer blob read once by layerscope's own layer reader
  (``registry_scan_layer.read_layer`` in a loop, one process);
- the raw floor: each unique blob downloaded once and gunzipped with isal, to nowhere;
- the sum of single ``inspect --json`` runs of every image: cold (``--no-cache``) and with one
  shared cache.

Targets: bytes read == the unique layer bytes; scan wall <= 1.2x the floor; two Dask workers
not slower than ``--workers 1``.

    .venv/bin/python benchmarks/bench_scan.py [--apps 50] [--bases 10] [--file-kb 1500] [--keep]
        [--skip-inspect]

``--file-kb`` sets the size of each layer's one big file (random: the compressed layer is as
big). The default 1.5 MB keeps the run short but lets fixed costs (start-up, listing, one
request per layer) weigh more than they do on real images; ``--file-kb 8000`` (about 0.5 GB
stored) is closer to a registry of real images. ``--skip-inspect`` leaves out the 2 x N single
``inspect`` runs. The load average is printed before and after the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks._measure import measure  # noqa: E402
from benchmarks.bench_registry import _start_registry  # noqa: E402
from tests.registry import scanfill  # noqa: E402

LS = [sys.executable, "-m", "layerscope"]

FLOOR_CODE = """
import json, sys
from layerscope.model import Digest
from layerscope.sources.registry_scan_layer import BlobRef, LayerTask, read_layer
total = 0
for repo, digest, size, diff_id in json.load(open(sys.argv[2])):
    blob = BlobRef(Digest(digest), size, Digest(diff_id), None)
    out = read_layer(LayerTask(sys.argv[1], repo, blob))
    assert out.error is None, out.error
    total += out.bytes_read
print(total)
"""

RAW_CODE = """
import json, sys, urllib.request, zlib
from isal import isal_zlib
total = 0
for repo, digest, size, diff_id in json.load(open(sys.argv[2])):
    with urllib.request.urlopen(f"http://{sys.argv[1]}/v2/{repo}/blobs/{digest}") as resp:
        d = isal_zlib.decompressobj(16 + 15)
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            d.decompress(chunk)
print(total)
"""


PYCACHE: Path | None = None
"""Byte-compiled modules for every child (PYTHONDONTWRITEBYTECODE would recompile each time)."""


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["LAYERSCOPE_CACHE_DIR"] = str(cache)
    env["LAYERSCOPE_DATA_DIR"] = str(cache / "data")
    return env


def _scan(work: Path, host: str, name: str, *extra: str) -> tuple[float, float, dict[str, Any]]:
    cache = work / f"cache-{name}"
    out = work / f"{name}.json"
    run = measure([*LS, "scan", f"registry://{host}", "--json", "-o", str(out), *extra],
                  env=_env(cache))  # fmt: skip
    if run.returncode not in (0, 1):
        raise SystemExit(f"scan {name} failed: {run.returncode}")
    return run.wall_s, run.cpu_s or 0.0, json.loads(out.read_text())


def _dask(work: Path) -> tuple[list[subprocess.Popen[bytes]], str]:
    dask = str(Path(sys.executable).parent / "dask")
    sched_file = work / "scheduler.json"
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(sched_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work, env=_env(work),
        )
    ]  # fmt: skip
    import distributed

    client = distributed.Client(scheduler_file=str(sched_file), timeout=120)
    for i in range(2):
        procs.append(
            subprocess.Popen(
                [dask, "worker", "--scheduler-file", str(sched_file), "--nthreads", "1",
                 "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                 "--local-directory", str(work / f"w{i}")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work, env=_env(work),
            )
        )  # fmt: skip
    client.wait_for_workers(2, timeout=120)
    address = str(client.scheduler.address)
    client.close()
    return procs, address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--bases", type=int, default=10)
    parser.add_argument("--file-kb", type=int, default=1500, help="size of each image's own file")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-inspect", action="store_true", help="no single inspect runs")
    args = parser.parse_args()
    global PYCACHE
    work = Path(tempfile.mkdtemp(prefix="layerscope-bench-scan-"))
    PYCACHE = work / "pycache"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        registry, host = _start_registry(work / "registry")
        procs.append(registry)
        t0 = time.monotonic()
        plan = scanfill.build(
            work / "images", apps=args.apps, families=args.bases, size=args.file_kb * 1000
        )
        scanfill.push_all(plan, host, scanfill.skopeo_push(host))
        fig = scanfill.api_figures(host)
        print(f"filled in {time.monotonic() - t0:.1f} s: {fig['images']} images, "
              f"{fig['repositories']} repositories, {fig['unique_layers']} unique layers, "
              f"{fig['stored_compressed_bytes'] / 1e6:.1f} MB stored, "
              f"{fig['referenced_compressed_bytes'] / 1e6:.1f} MB referenced")  # fmt: skip
        owner: dict[str, str] = fig["_owner"]
        blobs: dict[str, tuple[str, int, str]] = {}
        for man_digest, repo in owner.items():
            man = _manifest(host, repo, man_digest)
            config = _config(host, repo, man["config"]["digest"])
            for layer, diff_id in zip(man["layers"], config["rootfs"]["diff_ids"], strict=True):
                blobs.setdefault(layer["digest"], (repo, layer["size"], diff_id))
        listing = work / "blobs.json"
        listing.write_text(json.dumps([[r, d, s, i] for d, (r, s, i) in blobs.items()]))
        unique = sum(s for _r, s, _i in blobs.values())

        # warm-up (untimed): byte-compile everything the runs import, workers included
        _scan(work, host, "warm-up", "--workers", "2")
        load_before = os.getloadavg()
        floor = measure([sys.executable, "-c", FLOOR_CODE, host, str(listing)],
                        env=_env(work / "cache-floor"))  # fmt: skip
        raw = measure([sys.executable, "-c", RAW_CODE, host, str(listing)])
        rows: list[tuple[str, tuple[float, float, dict[str, Any]]]] = []
        for name, extra in (("workers-1", ["--workers", "1"]), ("workers-2", ["--workers", "2"])):
            rows.append((name, _scan(work, host, name, *extra)))
        dask_procs, address = _dask(work)
        procs += dask_procs
        rows.append(
            ("dask 2 workers (fresh workers)", _scan(work, host, "dask-2", "--dask", address))
        )
        rows.append(
            ("dask 2 workers (warm workers)", _scan(work, host, "dask-2-again", "--dask", address))
        )
        # the cache is warm now
        rows.append(("re-scan (cached)", _scan(work, host, "workers-1", "--workers", "1")))

        load_after = os.getloadavg()
        cold = shared = 0.0
        for man_digest, repo in [] if args.skip_inspect else owner.items():
            ref = f"registry://{host}/{repo}@{man_digest}"
            plat = _platform(host, repo, man_digest)
            cmd = [*LS, "inspect", ref, "--json", "-o", str(work / "inspect.json"),
                   "--platform", plat]  # fmt: skip
            cold += measure([*cmd, "--no-cache"], env=_env(work / "cache-inspect-cold")).wall_s
            shared += measure(cmd, env=_env(work / "cache-inspect-shared")).wall_s

        print()
        print(f"unique layer bytes {unique:,}; floor (layerscope reads each unique layer once) "
              f"{floor.wall_s:.2f} s ({floor.cpu_s or 0:.2f} s CPU); raw floor (HTTP + igzip) "
              f"{raw.wall_s:.2f} s")  # fmt: skip
        if not args.skip_inspect:
            print(f"sum of {len(owner)} single inspect runs: cold {cold:.1f} s, "
                  f"one shared cache {shared:.1f} s")  # fmt: skip
        print("load average (1, 5, 15 min) before the timed runs "
              + " ".join(f"{x:.2f}" for x in load_before) + "; after "
              + " ".join(f"{x:.2f}" for x in load_after))  # fmt: skip
        print()
        print("| run | wall s | listing / reading / report s | bytes read | read / unique "
              "| wall / floor | inspect sum / wall | client CPU s |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for name, (wall, cpu, doc) in rows:
            read = doc["scan"]["bytes_read"]
            st = doc["scan"]["stages"]
            stages = f"{st['listing']:.2f} / {st['reading']:.2f} / {st['report']:.2f}"
            versus = f"{cold / wall:.1f}x" if cold else "-"
            print(f"| {name} | {wall:.2f} | {stages} | {read:,} | {read / unique:.3f} | "
                  f"{wall / floor.wall_s:.2f}x | {versus} | {cpu:.2f} |")  # fmt: skip
        one = rows[0][1][0]
        print(f"dask (fresh, warm) / workers-1: {rows[2][1][0] / one:.2f}x, "
              f"{rows[3][1][0] / one:.2f}x")  # fmt: skip
        first = rows[0][1][2]
        assert first["stored_compressed_bytes"] == fig["stored_compressed_bytes"]
        assert first["images"] == fig["images"]
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


def _get(url: str, accept: str | None = None) -> Any:
    import urllib.request

    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _manifest(host: str, repo: str, digest: str) -> Any:
    return _get(f"http://{host}/v2/{repo}/manifests/{digest}", scanfill.ACCEPT)


def _config(host: str, repo: str, digest: str) -> Any:
    return _get(f"http://{host}/v2/{repo}/blobs/{digest}")


def _platform(host: str, repo: str, digest: str) -> str:
    man = _manifest(host, repo, digest)
    cfg = _config(host, repo, man["config"]["digest"])
    plat = f"{cfg['os']}/{cfg['architecture']}"
    return f"{plat}/{cfg['variant']}" if cfg.get("variant") else plat


if __name__ == "__main__":
    main()
