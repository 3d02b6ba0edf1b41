"""Estimate vs measured saving per suggestion kind over the test corpus (tests/prove/corpus.py).

For every naive Dockerfile of the corpus it builds the image with the engine at ``$DOCKER_HOST``
(BuildKit through ``$LAYERSCOPE_DOCKER_CLI``, default /usr/bin/docker), runs
``layerscope suggest docker://IMAGE --dockerfile Dockerfile --prove=each --json`` from the build
context, and records, for each suggestion in the combined patch, its estimate and the saving
measured by building the Dockerfile with only that suggestion applied, and for each case the
whole patch's estimate and measured saving. Prints a table per kind and the worst relative
error; ``--results FILE`` writes the rows as JSON (each case's proof and its suggestions with
their evidence, for finding why an estimate is off).

    DOCKER_HOST=unix:///path/docker.sock .venv/bin/python benchmarks/bench_prove.py
    .venv/bin/python benchmarks/bench_prove.py --cases apk,node,chmod   # the busybox ones only

The engine must be running (scripts/lib/dockerd.sh starts a private one); the Debian base is
made with debootstrap on first use and cached (tests/prove/debian.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.prove.corpus import (  # noqa: E402
    BBX,
    CASES,
    PYBASE,
    docker_env,
    write_bbx_context,
    write_context,
    write_pybase_context,
)
from tests.prove.debian import DEBIAN_TAG, debian_tarball  # noqa: E402


def sh(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])}... failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def ensure_bases(cli: str, work: Path) -> None:
    have = sh([cli, "images", "--format", "{{.Repository}}:{{.Tag}}"]).stdout.split()
    if DEBIAN_TAG not in have:
        sh([cli, "import", "--change", 'CMD ["bash"]', str(debian_tarball()), DEBIAN_TAG])
    for tag, write in ((BBX, write_bbx_context), (PYBASE, write_pybase_context)):
        if tag not in have:
            ctx = write(work / tag.replace("/", "_").replace(":", "_"))
            sh([cli, "build", "-q", "--network", "none", "-t", tag, str(ctx)],
               env=docker_env(True))  # fmt: skip


def prove_case(cli: str, case: Any, work: Path) -> dict[str, Any]:
    ctx = write_context(case, work / case.name)
    tag = f"layerscope-bench/prove-{case.name}-{uuid.uuid4().hex[:8]}:naive"
    sh([cli, "build", "--network", case.network, "-t", tag, str(ctx)], env=docker_env(True))
    started = time.monotonic()
    env = dict(os.environ, LAYERSCOPE_DOCKER_CLI=cli, LAYERSCOPE_CACHE_DIR=str(work / "cache"),
               LAYERSCOPE_DATA_DIR=str(work / "data"))  # fmt: skip
    done = sh(
        [sys.executable, "-m", "layerscope", "suggest", f"docker://{tag}", "--dockerfile",
         "Dockerfile", "--prove=each", "--builder", "buildkit", "--network", case.network,
         "--json", "--quiet"],
        cwd=ctx, env=env,
    )  # fmt: skip
    seconds = time.monotonic() - started
    sh([cli, "rmi", "-f", tag])
    doc = json.loads(done.stdout)
    return {"case": case.name, "seconds": round(seconds, 1), "proof": doc["proof"],
            "suggestions": doc["suggestions"]}  # fmt: skip


def error(estimate: int, measured: int | None) -> float | None:
    if measured is None or estimate <= 0:
        return None
    return abs(measured - estimate) / estimate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--results", metavar="FILE", help="write the rows as JSON")
    args = parser.parse_args()
    if not os.environ.get("DOCKER_HOST"):
        sys.exit("set DOCKER_HOST to a running engine (scripts/lib/dockerd.sh starts one)")
    cli = os.environ.get("LAYERSCOPE_DOCKER_CLI", "/usr/bin/docker")
    wanted = set(args.cases.split(",")) if args.cases else None
    cases = [c for c in CASES if wanted is None or c.name in wanted]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="layerscope-bench-prove-") as tmp:
        work = Path(tmp)
        ensure_bases(cli, work)
        for case in cases:
            print(f"proving {case.name} ...", file=sys.stderr, flush=True)
            rows.append(prove_case(cli, case, work))
    print(f"{'case':<11} {'suggestion':<15} {'kind':<22} {'estimated':>11} {'measured':>11} "
          f"{'error':>7}")  # fmt: skip
    worst: tuple[float, str] = (0.0, "-")
    per_kind: dict[str, list[float]] = {}
    for row in rows:
        proof = row["proof"]
        for s in proof["suggestions"]:
            e = error(s["estimated_saving_bytes"], s["measured_saving_bytes"])
            shown = "-" if e is None else f"{e * 100:.1f}%"
            print(f"{row['case']:<11} {s['id']:<15} {s['kind']:<22} "
                  f"{s['estimated_saving_bytes']:>11} {str(s['measured_saving_bytes']):>11} "
                  f"{shown:>7}")  # fmt: skip
            if e is not None:
                per_kind.setdefault(s["kind"], []).append(e)
                worst = max(worst, (e, f"{row['case']}/{s['id']}"))
        e = error(proof["estimated_saving_bytes"], proof["measured_saving_bytes"])
        shown = "-" if e is None else f"{e * 100:.1f}%"
        print(f"{row['case']:<11} {'whole patch':<15} {'':<22} "
              f"{proof['estimated_saving_bytes']:>11} {proof['measured_saving_bytes']:>11} "
              f"{shown:>7}   ({row['seconds']} s, {len(proof['dropped'])} dropped)")  # fmt: skip
        if e is not None:
            per_kind.setdefault("(whole patch)", []).append(e)
            worst = max(worst, (e, f"{row['case']}/whole patch"))
    print()
    print(f"{'kind':<22} {'n':>3} {'mean error':>11} {'worst':>7}")
    for kind, errors in sorted(per_kind.items()):
        print(f"{kind:<22} {len(errors):>3} {sum(errors) / len(errors) * 100:>10.1f}% "
              f"{max(errors) * 100:>6.1f}%")  # fmt: skip
    print(f"\nworst error: {worst[0] * 100:.1f}% ({worst[1]})")
    if args.results:
        Path(args.results).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
