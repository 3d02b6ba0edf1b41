"""Fixtures for tests against the real Docker engine that ``scripts/test`` starts.

Nothing here is faked: images are built by the engine (``docker build --network none``
FROM scratch with a busybox-static rootfs), exported with ``docker save`` and converted by
skopeo. The build runs once per test session; under pytest-xdist the first worker to get
the lock builds and exports, the others reuse its results (same image ids and files).

A missing or silent engine is a failure, never a skip: run ``scripts/test``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HINT = "run scripts/test, which starts a private engine and exports DOCKER_HOST"
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static
APPLETS = (
    "sh", "ls", "cp", "mv", "rm", "ln", "chmod", "chown", "mkdir", "echo", "cat", "dd",
    "touch", "sleep", "true", "false", "test", "printf", "head", "wc",
)  # fmt: skip
APP_TAG = "layerscope-test/app:1"
"""BuildKit-built test image; ``app_image`` also yields a classic-builder twin."""
BUILDERS: Mapping[str, str] = {
    "buildkit": APP_TAG,
    "classic": "layerscope-test/app-classic:1",
}
DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
COPY app/ /app/
RUN mkdir /data && dd if=/dev/zero of=/data/blob.bin bs=1024 count=64 2>/dev/null \
 && ln /data/blob.bin /data/blob.hard && ln -s blob.bin /data/blob.sym \
 && echo built > /app/built.txt
RUN rm /data/blob.bin /data/blob.hard
RUN chmod 0600 /app/config.ini
ENV APP_MODE=test
WORKDIR /app
COPY --chown=1000:1001 app/bin/ /app/owned/
"""
APP_FILES: Mapping[str, tuple[bytes, int]] = {
    "hello.txt": (b"hello layerscope\n", 0o644),
    "config.ini": (b"[app]\nmode = test\n" * 8, 0o644),
    "bin/run.sh": (b"#!/bin/sh\necho run\n", 0o755),
}


@dataclass(frozen=True, slots=True)
class BuiltImage:
    """An image the engine built for this session, and its exports as layerscope refs."""

    builder: str
    tag: str
    image_id: str
    exports: Mapping[str, str]
    """Export name (``docker-save``, ``skopeo-oci``, ...) -> reference text for load_image."""


def run(args: Sequence[str | os.PathLike[str]], *, timeout: float = 300) -> str:
    """Run a command, return its stdout; fail the test with its stderr if it fails."""
    argv = [os.fspath(a) for a in args]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{' '.join(argv)}: {exc}", pytrace=False)
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-4000:]}", pytrace=False
        )
    return done.stdout


def _is_static_elf(path: Path) -> bool:
    """True for a 64-bit little-endian ELF file without a PT_INTERP (dynamic loader) header."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    types = (struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum))
    return 3 not in types  # PT_INTERP


@pytest.fixture(scope="session")
def docker_cli() -> str:
    """The docker client tests use: Debian's (BuildKit built in), not /usr/local/bin/docker."""
    cli = os.environ.get("LAYERSCOPE_DOCKER_CLI", "/usr/bin/docker")
    if not (Path(cli).is_file() and os.access(cli, os.X_OK)):
        pytest.fail(f"docker client {cli} not found (apt-get install docker.io); {HINT}")
    return cli


@pytest.fixture(scope="session")
def docker_host(docker_cli: str) -> str:
    """DOCKER_HOST of a running engine; fails (never skips) when there is none."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        pytest.fail(f"DOCKER_HOST is not set: {HINT}", pytrace=False)
    try:
        done = subprocess.run(
            [docker_cli, "version", "--format", "{{.Server.Version}}"],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"Docker engine at {host} does not answer ({exc}): {HINT}", pytrace=False)
    if done.returncode != 0 or not done.stdout.strip():
        pytest.fail(
            f"Docker engine at {host} does not answer: {done.stderr.strip()}; {HINT}",
            pytrace=False,
        )
    return host


@pytest.fixture(scope="session")
def docker_client(docker_host: str) -> Iterator[Any]:
    """A docker SDK client for the engine (exact sizes from the Engine API)."""
    import docker

    client = docker.from_env(timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory all xdist workers of this session share (the basetemp without xdist)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / "layerscope-integration"
    path.mkdir(exist_ok=True)
    return path


def _make_busybox_context(dest: Path) -> None:
    if not BUSYBOX.is_file() or not _is_static_elf(BUSYBOX):
        pytest.fail(f"{BUSYBOX} is missing or not static: apt-get install busybox-static")
    bindir = dest / "rootfs" / "bin"
    bindir.mkdir(parents=True)
    shutil.copy2(BUSYBOX, bindir / "busybox")
    (bindir / "busybox").chmod(0o755)
    for applet in APPLETS:
        (bindir / applet).symlink_to("busybox")
    tmp = dest / "rootfs" / "tmp"
    tmp.mkdir()
    tmp.chmod(0o1777)


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build context dir holding ``rootfs/``: /bin/busybox (static), applet symlinks, /tmp.

    Copy it (``shutil.copytree(..., symlinks=True)``) before adding files of your own.
    """
    ctx = tmp_path_factory.mktemp("busybox-context")
    _make_busybox_context(ctx)
    return ctx


def _build(cli: str, builder: str, tag: str, ctx: Path) -> str:
    """docker build the test Dockerfile in ctx with the given builder; return the image id."""
    env = dict(os.environ, DOCKER_BUILDKIT="1" if builder == "buildkit" else "0")
    argv = [cli, "build", "--network", "none", "-t", tag, "-q"]
    if builder == "buildkit":
        argv[2:2] = ["--progress", "plain"]
    done = subprocess.run(
        [*argv, str(ctx)], capture_output=True, text=True, env=env, timeout=600,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"docker build ({builder}) failed:\n{done.stderr[-4000:]}", pytrace=False)
    image_id = run([cli, "image", "inspect", "--format", "{{.Id}}", tag]).strip()
    return image_id


def _export(cli: str, built: BuiltImage, out: Path) -> dict[str, str]:
    """docker save the image, then skopeo copy it into the other formats; name -> ref text."""
    saved = out / "docker-save.tar"
    run([cli, "save", "-o", saved, built.tag])
    src = f"docker-archive:{saved}"
    skopeo = ["skopeo", "--insecure-policy", "copy", "-q"]
    layouts = {
        # skopeo 1.9 gzips layers for oci: whatever the flags (uncompressed-layer flags ignored).
        "skopeo-oci": [],
        "skopeo-oci-zstd": ["--dest-compress-format", "zstd"],
    }
    refs = {"docker-save": src}
    for name, flags in layouts.items():
        run([*skopeo, *flags, src, f"oci:{out / name}:app"])
        refs[name] = f"oci:{out / name}:app"
    run([*skopeo, src, f"oci-archive:{out / 'skopeo-oci-archive.tar'}:app"])
    refs["skopeo-oci-archive"] = f"oci-archive:{out / 'skopeo-oci-archive.tar'}:app"
    run([*skopeo, src, f"docker-archive:{out / 'skopeo-docker-archive.tar'}:{built.tag}"])
    refs["skopeo-docker-archive"] = f"docker-archive:{out / 'skopeo-docker-archive.tar'}"
    return refs


@pytest.fixture(scope="session")
def built_images(docker_cli: str, docker_host: str, shared_dir: Path) -> Mapping[str, BuiltImage]:
    """Both test images (BuildKit and classic builder), built and exported once per session."""
    state = shared_dir / "built.json"
    with open(shared_dir / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if state.exists():
            raw = json.loads(state.read_text())
            return {k: BuiltImage(**v) for k, v in raw.items()}
        ctx = shared_dir / "context"
        if ctx.exists():
            shutil.rmtree(ctx)
        _make_busybox_context(ctx)
        for rel, (content, mode) in APP_FILES.items():
            path = ctx / "app" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            path.chmod(mode)
        (ctx / "Dockerfile").write_text(DOCKERFILE)
        images: dict[str, BuiltImage] = {}
        for builder, tag in BUILDERS.items():
            image_id = _build(docker_cli, builder, tag, ctx)
            out = shared_dir / f"exports-{builder}"
            if out.exists():
                shutil.rmtree(out)
            out.mkdir()
            built = BuiltImage(builder, tag, image_id, {})
            exports = _export(docker_cli, built, out)
            images[builder] = BuiltImage(builder, tag, image_id, exports)
        state.write_text(json.dumps({k: vars_of(v) for k, v in images.items()}))
        return images


def vars_of(built: BuiltImage) -> dict[str, Any]:
    """BuiltImage as a JSON-able dict."""
    return {
        "builder": built.builder,
        "tag": built.tag,
        "image_id": built.image_id,
        "exports": dict(built.exports),
    }


@pytest.fixture(scope="session", params=sorted(BUILDERS))
def app_image(request: pytest.FixtureRequest, built_images: Mapping[str, BuiltImage]) -> BuiltImage:
    """Each test image in turn (``buildkit`` is tagged layerscope-test/app:1)."""
    return built_images[str(request.param)]


@pytest.fixture(scope="session")
def buildkit_image(built_images: Mapping[str, BuiltImage]) -> BuiltImage:
    """The BuildKit-built image tagged layerscope-test/app:1."""
    return built_images["buildkit"]
