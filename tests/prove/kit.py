"""Helpers of the corpus tests: base images once per session, builds, an independent reading of
which steps hit the cache, and ``layerscope suggest`` run as a user would (from the context)."""

from __future__ import annotations

import fcntl
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import run
from tests.prove.corpus import (
    BBX,
    PYBASE,
    Case,
    docker_env,
    write_bbx_context,
    write_pybase_context,
)
from tests.prove.debian import import_debian

BUILDERS = ("buildkit", "classic")


def ensure_bases(docker_cli: str, shared_dir: Path) -> None:
    """Import the Debian base and build pybase and bbx, once per session (xdist-safe)."""
    import_debian(docker_cli, shared_dir)
    with open(shared_dir / "prove-bases.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = shared_dir / "prove-bases.built"
        if marker.exists():
            return
        root = shared_dir / "prove-bases"
        for tag, write in ((BBX, write_bbx_context), (PYBASE, write_pybase_context)):
            ctx = write(root / tag.split("/")[1].split(":")[0])
            done = subprocess.run(
                [docker_cli, "build", "-q", "--network", "none", "-t", tag, str(ctx)],
                capture_output=True, text=True, env=docker_env(True), timeout=600,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if done.returncode != 0:
                pytest.fail(f"building {tag} failed:\n{done.stderr[-3000:]}", pytrace=False)
        marker.write_text("ok")


def build(docker_cli: str, ctx: Path, tag: str, *, builder: str, network: str) -> tuple[bool, str]:
    """Build ``ctx`` with the engine's classic builder or BuildKit: (ok, full output)."""
    argv = [docker_cli, "build", "--network", network, "-t", tag]
    if builder == "buildkit":
        argv += ["--progress", "plain"]
    done = subprocess.run(
        [*argv, str(ctx)], capture_output=True, text=True, env=docker_env(builder == "buildkit"),
        timeout=1200, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return done.returncode == 0, done.stdout + done.stderr


def must_build(docker_cli: str, ctx: Path, tag: str, *, builder: str, network: str) -> str:
    ok, log = build(docker_cli, ctx, tag, builder=builder, network=network)
    if not ok:
        pytest.fail(f"{builder} build of {ctx / 'Dockerfile'} failed:\n{log[-3000:]}",
                    pytrace=False)  # fmt: skip
    return log


def size_of(docker_cli: str, tag: str) -> int:
    return int(run([docker_cli, "image", "inspect", "--format", "{{.Size}}", tag]).strip())


_CLASSIC_STEP = re.compile(r"^Step \d+/\d+ : (.*)$")
_PLAIN_STEP = re.compile(r"^#(\d+) \[(?:[^\]]*?\s)?\s*\d+/\d+\] (.*)$")


def step_cache(log: str, builder: str) -> list[tuple[str, bool]]:
    """(instruction, cache hit) of every step that can hit the cache, in build order, read from
    the builder's own output (written here, not layerscope's buildlogs, to stay independent)."""
    steps: list[tuple[str, bool]] = []
    lines = log.splitlines()
    if builder == "classic":
        current: str | None = None
        for line in lines:
            m = _CLASSIC_STEP.match(line)
            if m:
                current = m.group(1)
                if not current.upper().startswith("FROM "):
                    steps.append((current, False))
            elif current is not None and "Using cache" in line and steps:
                if steps[-1][0] == current:
                    steps[-1] = (current, True)
        return steps
    names: dict[str, str] = {}
    cached: set[str] = set()
    order: list[str] = []
    for line in lines:
        m = _PLAIN_STEP.match(line)
        if m and not m.group(2).upper().startswith("FROM "):
            if m.group(1) not in names:
                order.append(m.group(1))
            names[m.group(1)] = m.group(2)
        elif re.match(r"^#(\d+) CACHED$", line):
            cached.add(line.split()[0][1:])
    return [(names[v], v in cached) for v in order]


def suggest_in(ctx: Path, image: str, monkeypatch: pytest.MonkeyPatch, *extra: str) -> dict:  # type: ignore[type-arg]
    """``layerscope suggest IMAGE --dockerfile Dockerfile --json`` run from the context folder."""
    from tests.suggest.engine import suggest_json

    monkeypatch.chdir(ctx)
    return suggest_json([image, "--dockerfile", "Dockerfile", *extra])


def apply_patch(ctx: Path, patch: str) -> None:
    """GNU ``patch -p1`` from the folder the suggest command ran in."""
    done = subprocess.run(
        ["patch", "-p1", "--forward", "--batch"], input=patch, cwd=ctx,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, f"patch -p1 failed:\n{done.stdout}{done.stderr}\n{patch}"


def touch(path: Path) -> None:
    """A one-line source edit, unique to this test run (an edit built before, in this engine,
    would come from the cache and prove nothing)."""
    mark = "//" if path.suffix in (".js", ".ts", ".go", ".c") else "#"
    with open(path, "a") as handle:
        handle.write(f"{mark} edited {uuid.uuid4().hex}\n")


def dependency_cached(steps: list[tuple[str, bool]], case: Case) -> tuple[bool, str]:
    """Whether every step up to and including the case's dependency step hit the cache."""
    for instruction, hit in steps:
        if not hit:
            return False, f"ran: {instruction}"
        if case.dependency_step in instruction:
            return True, ""
    return False, f"no step containing {case.dependency_step!r} in {steps}"
