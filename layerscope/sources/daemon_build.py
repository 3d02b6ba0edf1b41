"""Build images with the real engine for ``suggest --prove``: docker (classic builder through the
docker SDK, BuildKit through the docker client) and buildah (daemonless).

Why two routes to one engine: the docker SDK speaks the Engine API's classic ``/build`` only;
BuildKit needs the client half of BuildKit's session protocol (file sync over gRPC), which the
SDK does not implement, so BuildKit builds run Debian's / Docker's ``docker`` client with
``DOCKER_BUILDKIT=1 --progress=plain`` and the image is then read back through the SDK.

Every builder returns its log as text in the format the builder prints (classic ``Step N/M``
lines, BuildKit plain ``#N`` lines, buildah ``STEP N:`` lines) so ``layerscope.buildlogs`` can
parse steps, cache hits and the failing step. Images are identified by tag; ``remove`` deletes
them afterwards. Nothing is written outside the context given, the engine and buildah's storage.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DaemonUnavailableError, LayerscopeError, UsageError

if TYPE_CHECKING:
    import docker

# The docker SDK (and requests under it, ~70 ms) is imported by the methods that talk to the
# engine: ``suggest --help`` and every command's parser import this module for BUILDERS.

BUILDERS = ("auto", "buildkit", "classic", "buildah")
BUILD_TIMEOUT_SECONDS = 3600
NO_BUILDX = ("buildx component is missing", "BuildKit is enabled but the buildx")

LineSink = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    """One build: did it succeed, its log, how long it took."""

    ok: bool
    log: str
    seconds: float
    error: str | None = None
    """The builder's last error line when it failed."""


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What the engine says about a built image."""

    image_id: str
    size_bytes: int
    layers: tuple[tuple[str, int], ...]
    """(diff_id, bytes) of each layer, bottom first."""


def docker_client_path() -> str | None:
    """The docker client for BuildKit builds: ``$LAYERSCOPE_DOCKER_CLI`` or ``docker`` on PATH."""
    named = os.environ.get("LAYERSCOPE_DOCKER_CLI")
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("docker")


class Builder:
    """Builds with one builder; ``name`` is what actually ran (``auto`` is resolved)."""

    def __init__(self, name: str, *, network: str | None = None) -> None:
        requested = name
        self._fallback = False
        if name not in BUILDERS:
            raise UsageError(f"unknown builder {name!r}: choose one of {', '.join(BUILDERS)}")
        self.network = network
        self.notes: list[str] = []
        self._client: docker.DockerClient | None = None
        if name == "buildah":
            if shutil.which("buildah") is None:
                raise DaemonUnavailableError("buildah is not installed (apt-get install buildah)")
            self.name = "buildah"
            return
        import docker.errors

        from .daemon import _unavailable, connect

        connect().close()  # the one place that turns "no engine" into DaemonUnavailableError
        try:
            self._client = docker.from_env(version="auto", timeout=BUILD_TIMEOUT_SECONDS)
        except docker.errors.DockerException as exc:
            raise _unavailable(exc) from exc
        try:
            self._client.ping()
        except (docker.errors.DockerException, OSError) as exc:
            raise _unavailable(exc) from exc
        if name == "auto":
            name = "buildkit" if docker_client_path() else "classic"
            if name == "classic":
                self.notes.append("no docker client found for BuildKit: used the classic builder")
        if name == "buildkit" and docker_client_path() is None:
            raise UsageError(
                "--builder buildkit needs the docker client (set LAYERSCOPE_DOCKER_CLI)"
            )
        self.name = name
        self._fallback = requested == "auto"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # -- building ---------------------------------------------------------------------------

    def build(self, context: Path, dockerfile: Path, tag: str, sink: LineSink) -> BuildOutcome:
        """Build ``dockerfile`` in ``context`` as ``tag``; every output line goes to ``sink``."""
        if self.name == "classic":
            return self._classic(context, dockerfile, tag, sink)
        argv, env = self._argv(context, dockerfile, tag)
        outcome = _run_streaming(argv, env, sink)
        if self.name == "buildkit" and not outcome.ok and any(n in outcome.log for n in NO_BUILDX):
            if not self._fallback:
                raise UsageError(
                    f"{argv[0]} has no BuildKit (buildx missing): set LAYERSCOPE_DOCKER_CLI to a "
                    "client with BuildKit, or use --builder classic"
                )
            self.notes.append(
                "the docker client has no BuildKit (buildx): used the classic builder"
            )
            self.name = "classic"
            return self._classic(context, dockerfile, tag, sink)
        return outcome

    def _argv(self, context: Path, dockerfile: Path, tag: str) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        if self.name == "buildah":
            argv = ["buildah", "bud", "--layers", "-f", str(dockerfile), "-t", tag]
            if self.network:
                argv += ["--network", self.network]
            return [*argv, str(context)], env
        env["DOCKER_BUILDKIT"] = "1"
        argv = [docker_client_path() or "docker", "build", "--progress", "plain"]
        argv += ["-f", str(dockerfile), "-t", tag]
        if self.network:
            argv += ["--network", self.network]
        return [*argv, str(context)], env

    def _classic(self, context: Path, dockerfile: Path, tag: str, sink: LineSink) -> BuildOutcome:
        import docker.errors

        from .daemon import _unavailable

        assert self._client is not None
        lines: list[str] = []
        error: str | None = None
        started = time.monotonic()
        kwargs: dict[str, Any] = {
            "path": str(context),
            "dockerfile": str(dockerfile),
            "tag": tag,
            "rm": True,
            "forcerm": True,
            "decode": True,
        }
        if self.network:
            kwargs["network_mode"] = self.network
        try:
            for message in self._client.api.build(**kwargs):
                text = message.get("stream") or ""
                if message.get("error"):
                    error = str(message["error"]).strip()
                    text = f"{error}\n"
                for line in text.splitlines():
                    lines.append(line)
                    sink(line)
        except docker.errors.APIError as exc:
            error = str(exc.explanation or exc)
            lines.append(error)
        except (docker.errors.DockerException, OSError) as exc:
            raise _unavailable(exc) from exc
        seconds = time.monotonic() - started
        return BuildOutcome(error is None, "\n".join(lines) + "\n", seconds, error)

    # -- reading back -------------------------------------------------------------------------

    def facts(self, tag: str) -> ImageFacts:
        """Id, size and per-layer sizes of a built image."""
        if self.name == "buildah":
            return _buildah_facts(tag)
        import docker.errors

        assert self._client is not None
        try:
            info = self._client.api.inspect_image(tag)
            history = self._client.api.history(tag)
        except docker.errors.APIError as exc:
            raise LayerscopeError(
                f"cannot inspect the built image {tag}: {exc.explanation}"
            ) from exc
        diff_ids = list(info.get("RootFS", {}).get("Layers") or [])
        # history is newest first; entries with a layer are those whose size counts (an
        # empty-layer entry has Size 0). Match them to diff_ids bottom up.
        entries = [(int(h.get("Size") or 0), str(h.get("CreatedBy") or "")) for h in history]
        layered = _layer_sizes(list(reversed(entries)), len(diff_ids))
        return ImageFacts(str(info["Id"]), int(info.get("Size") or 0),
                          tuple(zip(diff_ids, layered, strict=True)))  # fmt: skip

    def remove(self, tags: list[str]) -> None:
        """Remove the images it tagged (best effort: a tag already gone is fine)."""
        import docker.errors

        for tag in tags:
            if self.name == "buildah":
                subprocess.run(["buildah", "rmi", "-f", tag], capture_output=True, timeout=300,
                               stdin=subprocess.DEVNULL, check=False)  # fmt: skip
                continue
            assert self._client is not None
            try:
                self._client.api.remove_image(tag, force=True)
            except (docker.errors.DockerException, OSError):
                pass  # already gone, or the engine is slow: it stays tagged under layerscope-prove/


def _layer_sizes(entries: list[tuple[int, str]], count: int) -> list[int]:
    """The size of each layer from history entries (oldest first): entries with bytes, and
    RUN/COPY/ADD, made a layer; a WORKDIR that created its folder (BuildKit) may have made an
    empty one, so those count when the layers are otherwise one short. Zeros when the history
    does not add up to ``count`` layers."""
    definite = [n for n, (size, by) in enumerate(entries) if size > 0 or _has_layer(by)]
    maybe = [n for n, (size, by) in enumerate(entries) if n not in definite and _is_workdir(by)]
    missing = count - len(definite)
    if missing < 0 or missing > len(maybe):
        return [0] * count
    chosen = sorted([*definite, *maybe[:missing]])
    return [entries[n][0] for n in chosen]


def _is_workdir(created_by: str) -> bool:
    return created_by.replace("#(nop)", "").strip().upper().startswith("WORKDIR")


def _has_layer(created_by: str) -> bool:
    """Whether a history entry made a (possibly empty) layer: RUN/COPY/ADD do, the rest do not."""
    text = created_by.strip()
    if "#(nop)" in text:
        text = text.split("#(nop)", 1)[1].strip()
        return text.split(" ", 1)[0].upper() in ("COPY", "ADD")
    return text.split(" ", 1)[0].upper() not in (
        "ENV", "LABEL", "CMD", "ENTRYPOINT", "WORKDIR", "USER", "EXPOSE", "ARG", "VOLUME",
        "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ONBUILD", "MAINTAINER",
    )  # fmt: skip


def _run_streaming(argv: list[str], env: dict[str, str], sink: LineSink) -> BuildOutcome:
    lines: list[str] = []
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, text=True, errors="replace",
        )  # fmt: skip
    except OSError as exc:
        raise DaemonUnavailableError(f"cannot run {argv[0]}: {exc.strerror}") from exc
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip("\n")
        lines.append(line)
        sink(line)
    code = proc.wait(timeout=BUILD_TIMEOUT_SECONDS)
    seconds = time.monotonic() - started
    text = "\n".join(lines) + "\n"
    if code == 0:
        return BuildOutcome(True, text, seconds)
    if any("Cannot connect to the Docker daemon" in line for line in lines[-5:]):
        from .daemon import _unavailable

        raise _unavailable()
    error = next((line for line in reversed(lines) if line.strip()), f"exit {code}")
    return BuildOutcome(False, text, seconds, error.strip())


def _buildah_facts(tag: str) -> ImageFacts:
    """buildah's images live in containers/storage, which podman reads with the same JSON shape
    as the Engine API (``Id``, ``Size``, ``RootFS.Layers``; history newest first)."""
    info = _podman_json(["image", "inspect", tag])[0]
    history = _podman_json(["history", "--no-trunc", "--format", "json", tag])
    diff_ids = list(info.get("RootFS", {}).get("Layers") or [])
    entries = [
        (
            int(h.get("size") or h.get("Size") or 0),
            str(h.get("createdBy") or h.get("CreatedBy") or ""),
        )
        for h in reversed(history)
    ]
    layered = [s for s, c in entries if s > 0 or _has_layer(c)]
    if len(layered) != len(diff_ids):
        layered = [0] * len(diff_ids)
    return ImageFacts(str(info["Id"]), int(info.get("Size") or 0),
                      tuple(zip(diff_ids, layered, strict=True)))  # fmt: skip


def _podman_json(args: list[str]) -> Any:
    if shutil.which("podman") is None:
        raise DaemonUnavailableError(
            "podman is needed to read buildah's images (apt-get install podman)"
        )
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    if done.returncode != 0:
        raise LayerscopeError(f"podman {args[0]} {args[-1]}: {done.stderr.strip()[:200]}")
    return json.loads(done.stdout)
