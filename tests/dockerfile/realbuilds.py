"""Real builds for the dockerfile and buildlogs tests: one Dockerfile, three builders.

Each builder (the engine's classic builder, its BuildKit, buildah) builds a small base image,
then the app Dockerfile FROM it, then rebuilds the app after ``added.txt`` changed. The app
image is exported to an archive and every build's output is kept in a session tmp dir.
Under pytest-xdist the first worker to take the lock builds; the others reuse its files.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import _make_busybox_context, run

BUILDERS = ("classic", "buildkit", "buildah")
BASE_DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
ENV PATH=/bin
CMD ["sh"]
"""
APP_DOCKERFILE = """\
# escape=\\
ARG BASE=layerscope-test/df-base:1
FROM ${BASE} AS builder
RUN mkdir -p /out && echo built > /out/artifact.txt

FROM ${BASE}
ARG GREETING=hi
ENV APP_MODE=test
LABEL org.example.k="v 1"
WORKDIR /app
COPY app/a.txt /app/
# a comment between instructions
COPY --chown=1000:1001 app/ /app/owned/
COPY --from=builder /out/artifact.txt /app/artifact.txt
ADD added.txt /app/added.txt
RUN echo "$GREETING" > /app/greet.txt && \\
    mkdir -p /data
RUN ["/bin/sh", "-c", "echo exec > /app/exec.txt"]
USER 1000
CMD ["sh", "-c", "cat /app/greet.txt"]
"""


FAILING_DOCKERFILE = """\
ARG BASE=layerscope-test/df-base:1
FROM ${BASE}
COPY app/a.txt /app/
RUN echo about to fail && false
"""


@dataclass(frozen=True, slots=True)
class RealBuild:
    """One builder's builds of APP_DOCKERFILE: the app image as an archive ref, and logs."""

    builder: str
    archive_ref: str
    """Reference text for ``load_image`` of the rebuilt app image."""
    first_log: str
    """Path of the first build's output (no cache)."""
    rebuild_log: str
    """Path of the rebuild's output, after added.txt changed."""
    image_id: str
    """The rebuilt app image's id as the builder reports it (``sha256:<hex>``)."""
    failed_log: str
    """Path of the output of a build of FAILING_DOCKERFILE (its RUN exits 1)."""
    nolayers_log: str | None = None
    """buildah only: the app built without ``--layers``."""


def _context(root: Path) -> Path:
    ctx = root / "context"
    if ctx.exists():
        shutil.rmtree(ctx)
    _make_busybox_context(ctx)
    (ctx / "app").mkdir()
    (ctx / "app" / "a.txt").write_text("a\n")
    (ctx / "app" / "b.txt").write_text("b\n")
    (ctx / "added.txt").write_text("first\n")
    (ctx / "Dockerfile").write_text(APP_DOCKERFILE)
    (ctx / "base.Dockerfile").write_text(BASE_DOCKERFILE)
    (ctx / "failing.Dockerfile").write_text(FAILING_DOCKERFILE)
    return ctx


def _capture(argv: list[str], env: Mapping[str, str], out: Path, *, fails: bool = False) -> None:
    """Run a build, write its stdout+stderr (in order) to ``out``; fail the test unless it
    exits as expected (0, or non-zero when ``fails``)."""
    with open(out, "w") as handle:
        done = subprocess.run(
            argv, stdout=handle, stderr=subprocess.STDOUT, env=dict(env), timeout=600,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    if (done.returncode != 0) != fails:
        pytest.fail(f"{' '.join(argv)} failed:\n{out.read_text()[-4000:]}", pytrace=False)


def _build_twice(app_build: list[str], env: dict[str, str], ctx: Path, out: Path) -> None:
    """first.log: the app built; rebuild.log: built again after added.txt changed (restored)."""
    _capture(app_build, env, out / "first.log")
    (ctx / "added.txt").write_text("second\n")
    try:
        _capture(app_build, env, out / "rebuild.log")
    finally:
        (ctx / "added.txt").write_text("first\n")


def _docker_builds(cli: str, builder: str, ctx: Path, out: Path) -> RealBuild:
    env = dict(os.environ, DOCKER_BUILDKIT="1" if builder == "buildkit" else "0")
    build = [cli, "build", "--network", "none"]
    if builder == "buildkit":
        build += ["--progress", "plain"]
    base, app = f"layerscope-test/df-base-{builder}:1", f"layerscope-test/df-app-{builder}:1"
    _capture([*build, "-t", base, "-f", str(ctx / "base.Dockerfile"), str(ctx)], env,
             out / "base.log")  # fmt: skip
    app_build = [*build, "--build-arg", f"BASE={base}", "-t", app, str(ctx)]
    _build_twice(app_build, env, ctx, out)
    run([cli, "save", "-o", out / "app.tar", app])
    image_id = run([cli, "image", "inspect", "--format", "{{.Id}}", app]).strip()
    failing = [*build, "--build-arg", f"BASE={base}", "-f", str(ctx / "failing.Dockerfile")]
    _capture([*failing, str(ctx)], env, out / "failed.log", fails=True)
    return RealBuild(builder, f"docker-archive:{out / 'app.tar'}", str(out / "first.log"),
                     str(out / "rebuild.log"), image_id, str(out / "failed.log"))  # fmt: skip


def _buildah_builds(ctx: Path, out: Path) -> RealBuild:
    if shutil.which("buildah") is None:
        pytest.fail("buildah not found: apt-get install buildah (scripts/test does)")
    store = out / "storage"
    bh = ["buildah", "--storage-driver", "vfs", "--root", str(store / "root"),
          "--runroot", str(store / "run")]  # fmt: skip
    bud = [*bh, "bud", "--isolation", "chroot", "--layers"]
    base, app = "localhost/layerscope-test/df-base:1", "localhost/layerscope-test/df-app:1"
    # DOCKER_CONFIG (set by scripts/test) makes buildah insist on an auth file being there.
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONFIG"}
    _capture([*bud, "-t", base, "-f", str(ctx / "base.Dockerfile"), str(ctx)], env,
             out / "base.log")  # fmt: skip
    app_build = [*bud, "--build-arg", f"BASE={base}", "-t", app, str(ctx)]
    _build_twice(app_build, env, ctx, out)
    _capture([*bh, "push", "--quiet", app, f"docker-archive:{out / 'app.tar'}:{app}"], env,
             out / "push.log")  # fmt: skip
    _capture([*bh, "inspect", "--type", "image", "--format", "{{.FromImageID}}", app], env,
             out / "image-id")  # fmt: skip
    image_id = (out / "image-id").read_text()
    plain_bud = [*bh, "bud", "--isolation", "chroot", "--build-arg", f"BASE={base}"]
    _capture([*plain_bud, "-t", app + "-nolayers", str(ctx)], env, out / "nolayers.log")
    failing = [*plain_bud, "-f", str(ctx / "failing.Dockerfile"), str(ctx)]
    _capture(failing, env, out / "failed.log", fails=True)
    return RealBuild("buildah", f"docker-archive:{out / 'app.tar'}", str(out / "first.log"),
                     str(out / "rebuild.log"), f"sha256:{image_id.strip()}",
                     str(out / "failed.log"), str(out / "nolayers.log"))  # fmt: skip


def real_builds_in(shared: Path, cli: str) -> dict[str, RealBuild]:
    """Build (once per session, under a lock) and return builder -> RealBuild."""
    root = shared / "dockerfile-builds"
    root.mkdir(exist_ok=True)
    state = root / "builds.json"
    with open(root / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if state.exists():
            return {k: RealBuild(**v) for k, v in json.loads(state.read_text()).items()}
        ctx = _context(root)
        builds: dict[str, RealBuild] = {}
        for builder in BUILDERS:
            out = root / builder
            if out.exists():
                shutil.rmtree(out)
            out.mkdir()
            if builder == "buildah":
                builds[builder] = _buildah_builds(ctx, out)
            else:
                builds[builder] = _docker_builds(cli, builder, ctx, out)
        state.write_text(json.dumps({k: asdict(v) for k, v in builds.items()}))
        return builds
