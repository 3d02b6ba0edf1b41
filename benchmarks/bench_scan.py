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
        [--skip-inspect] [--repeat N] [--before DIR]

``--file-kb`` sets the size of each layer's one big file (random: the compressed layer is as
big). The default 1.5 MB keeps the run short but lets fixed costs (start-up, listing, one
request per layer) weigh more than they do on real images; ``--file-kb 8000`` (about 0.5 GB
stored) is closer to a registry of real images. ``--skip-inspect`` leaves out the 2 x N single
``inspect`` runs. ``--repeat N`` runs every scan and both floors N times, in turn, and prints
medians, the ratios taken round by round (paired: on a shared machine the load drifts);
``--before DIR`` times another checkout's scans (``PYTHONPATH=DIR``, its own Dask cluster) in
the same rounds. The load average is printed before and after the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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


def _env(cache: Path, tree: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if tree is not None:
        env["PYTHONPATH"] = tree
    env["LAYERSCOPE_CACHE_DIR"] = str(cache)
    env["LAYERSCOPE_DATA_DIR"] = str(cache / "data")
    return env


Result = tuple[float, float, dict[str, Any]]
# Every child runs in the work directory: ``-m`` and ``-c`` put the current directory first on
# sys.path, and from the checkout it would shadow ``--before``'s PYTHONPATH.
"""(wall s, client CPU s, the scan's JSON document)."""


def _scan(work: Path, host: str, name: str, *extra: str, tree: str | None = None) -> Result:
    cache = work / f"cache-{name}"
    shutil.rmtree(cache, ignore_errors=True)  # every timed scan starts cold
    out = work / f"{name}.json"
    run = measure([*LS, "scan", f"registry://{host}", "--json", "-o", str(out), *extra],
                  env=_env(cache, tree), cwd=work)  # fmt: skip
    if run.returncode not in (0, 1):
        raise SystemExit(f"scan {name} failed: {run.returncode}")
    doc = json.loads(out.read_text())
    if doc["failures"]:  # a timed run that did not read everything says nothing
        raise SystemExit(f"scan {name} {' '.join(extra)}: {doc['failures'][0]['message']}")
    return run.wall_s, run.cpu_s or 0.0, doc


def _dask(work: Path, tree: str | None) -> tuple[list[subprocess.Popen[bytes]], str]:
    """A scheduler and two single-thread workers (importing layerscope from ``tree``)."""
    dask = str(Path(sys.executable).parent / "dask")
    work.mkdir(parents=True, exist_ok=True)
    sched_file = work / "scheduler.json"
    env = _env(work, tree)
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(sched_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work, env=env,
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
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work, env=env,
            )
        )  # fmt: skip
    client.wait_for_workers(2, timeout=120)
    address = str(client.scheduler.address)
    client.close()
    return procs, address


def _fill(work: Path, args: argparse.Namespace) -> tuple[str, dict[str, Any], Path, int]:
    """The registry filled: its host, the API's figures, the unique blobs' list and bytes."""
    t0 = time.monotonic()
    plan = scanfill.build(
        work / "images", apps=args.apps, families=args.bases, size=args.file_kb * 1000
    )
    host = args.host
    scanfill.push_all(plan, host, scanfill.skopeo_push(host))
    fig = scanfill.api_figures(host)
    print(f"filled in {time.monotonic() - t0:.1f} s: {fig['images']} images, "
          f"{fig['repositories']} repositories, {fig['unique_layers']} unique layers, "
          f"{fig['stored_compressed_bytes'] / 1e6:.1f} MB stored, "
          f"{fig['referenced_compressed_bytes'] / 1e6:.1f} MB referenced")  # fmt: skip
    blobs: dict[str, tuple[str, int, str]] = {}
    for man_digest, repo in fig["_owner"].items():
        man = _manifest(host, repo, man_digest)
        config = _config(host, repo, man["config"]["digest"])
        for layer, diff_id in zip(man["layers"], config["rootfs"]["diff_ids"], strict=True):
            blobs.setdefault(layer["digest"], (repo, layer["size"], diff_id))
    listing = work / "blobs.json"
    listing.write_text(json.dumps([[r, d, s, i] for d, (r, s, i) in blobs.items()]))
    return host, fig, listing, sum(s for _r, s, _i in blobs.values())


def _rounds(
    work: Path, host: str, listing: Path, args: argparse.Namespace, addresses: dict[str, str]
) -> dict[str, list[Result]]:
    """``--repeat`` rounds; in each, every run once, in turn (the floors first)."""
    trees = {"": None, " (before)": args.before} if args.before else {"": None}
    runs: dict[str, list[Result]] = {}
    for _round in range(args.repeat):
        floor = measure([sys.executable, "-c", FLOOR_CODE, host, str(listing)],
                        env=_env(work / "cache-floor"), cwd=work)  # fmt: skip
        raw = measure([sys.executable, "-c", RAW_CODE, host, str(listing)], cwd=work)
        runs.setdefault("floor", []).append((floor.wall_s, floor.cpu_s or 0.0, {}))
        runs.setdefault("raw floor", []).append((raw.wall_s, raw.cpu_s or 0.0, {}))
        for label, extra in (("workers-1", ["--workers", "1"]),
                             ("dask 2 workers", ["--dask", "@"]),
                             ("workers-2", ["--workers", "2"])):  # fmt: skip
            for suffix, tree in trees.items():
                how = [addresses[suffix] if e == "@" else e for e in extra]
                runs.setdefault(label + suffix, []).append(
                    _scan(work, host, "run", *how, tree=tree)
                )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--bases", type=int, default=10)
    parser.add_argument("--file-kb", type=int, default=1500, help="size of each image's own file")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every run, interleaved")
    parser.add_argument("--before", metavar="DIR", help="also time another checkout, in turn")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-inspect", action="store_true", help="no single inspect runs")
    args = parser.parse_args()
    global PYCACHE
    work = Path(tempfile.mkdtemp(prefix="layerscope-bench-scan-"))
    PYCACHE = work / "pycache"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        registry, args.host = _start_registry(work / "registry")
        procs.append(registry)
        host, fig, listing, unique = _fill(work, args)
        owner: dict[str, str] = fig["_owner"]
        addresses: dict[str, str] = {}
        for suffix, tree in {"": None, " (before)": args.before}.items():
            if suffix and not tree:
                continue
            # warm-up (untimed): byte-compile everything the runs import, workers included
            _scan(work, host, "warm-up", "--workers", "2", tree=tree)
            dask_procs, addresses[suffix] = _dask(work / f"dask{len(addresses)}", tree)
            procs += dask_procs
            _scan(work, host, "warm-up", "--dask", addresses[suffix], tree=tree)
        load_before = os.getloadavg()
        runs = _rounds(work, host, listing, args, addresses)
        # a re-scan: a second scan into one cache
        _scan(work, host, "rescan")
        rescan = measure([*LS, "scan", f"registry://{host}", "--json", "-o",
                          str(work / "rescan.json")], env=_env(work / "cache-rescan"),
                         cwd=work)  # fmt: skip
        runs["re-scan (cached)"] = [
            (rescan.wall_s, rescan.cpu_s or 0.0, json.loads((work / "rescan.json").read_text()))
        ]
        load_after = os.getloadavg()
        cold = shared = 0.0
        for man_digest, repo in [] if args.skip_inspect else owner.items():
            ref = f"registry://{host}/{repo}@{man_digest}"
            plat = _platform(host, repo, man_digest)
            cmd = [*LS, "inspect", ref, "--json", "-o", str(work / "inspect.json"),
                   "--platform", plat]  # fmt: skip
            cold += measure([*cmd, "--no-cache"], env=_env(work / "cache-inspect-cold"),
                            cwd=work).wall_s  # fmt: skip
            shared += measure(cmd, env=_env(work / "cache-inspect-shared"), cwd=work).wall_s
        _print(runs, unique, cold, shared, len(owner), (load_before, load_after), args)
        first = runs["workers-1"][0][2]
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


def _print(
    runs: dict[str, list[Result]],
    unique: int,
    cold: float,
    shared: float,
    images: int,
    load: tuple[tuple[float, ...], tuple[float, ...]],
    args: argparse.Namespace,
) -> None:
    """Medians over the rounds; the ratios are taken round by round (paired), then medians."""
    med = statistics.median
    floors = [w for w, _c, _d in runs["floor"]]
    print()
    print(f"unique layer bytes {unique:,}; floor (layerscope reads each unique layer once) "
          f"{med(floors):.2f} s ({med(c for _w, c, _d in runs['floor']):.2f} s CPU); raw floor "
          f"(HTTP + igzip) {med(w for w, _c, _d in runs['raw floor']):.2f} s; medians of "
          f"{args.repeat} interleaved round(s)")  # fmt: skip
    if not args.skip_inspect:
        print(f"sum of {images} single inspect runs: cold {cold:.1f} s, "
              f"one shared cache {shared:.1f} s")  # fmt: skip
    print("load average (1, 5, 15 min) before the timed runs "
          + " ".join(f"{x:.2f}" for x in load[0]) + "; after "
          + " ".join(f"{x:.2f}" for x in load[1]))  # fmt: skip
    print()
    print("| run | wall s | listing / reading / report s | bytes read | read / unique "
          "| wall / floor (paired) | inspect sum / wall | client CPU s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, results in runs.items():
        if "floor" in name:
            continue
        wall = med(w for w, _c, _d in results)
        doc = results[-1][2]
        read = doc["scan"]["bytes_read"]
        st = doc["scan"]["stages"]
        stages = f"{st['listing']:.2f} / {st['reading']:.2f} / {st['report']:.2f}"
        versus = f"{cold / wall:.1f}x" if cold else "-"
        paired = med(w / f for (w, _c, _d), f in zip(results, floors, strict=False))
        print(f"| {name} | {wall:.2f} | {stages} | {read:,} | {read / unique:.3f} | "
              f"{paired:.2f}x | {versus} | {med(c for _w, c, _d in results):.2f} |")  # fmt: skip
    for suffix in ("", " (before)"):
        if "workers-1" + suffix in runs:
            pairs = zip(runs["dask 2 workers" + suffix], runs["workers-1" + suffix], strict=True)
            ratios = sorted(d[0] / w[0] for d, w in pairs)
            print(f"dask / workers-1{suffix}: median {med(ratios):.2f}x (per round: "
                  + ", ".join(f"{r:.2f}" for r in ratios) + ")")  # fmt: skip
    if args.before:
        for name in ("workers-1", "dask 2 workers", "workers-2"):
            both = list(zip(runs[name], runs[name + " (before)"], strict=True))
            ratios = sorted(a[0] / b[0] for a, b in both)
            cpu = sorted(a[1] / b[1] for a, b in both)
            print(f"{name} after / before: wall {med(ratios):.2f}x, client CPU {med(cpu):.2f}x")


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
