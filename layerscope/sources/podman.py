"""Podman's image store: ``podman://NAME[:TAG]`` (or a full image ID).

Podman keeps images in containers/storage, which it alone should read. This source asks the
``podman`` command on PATH, as it is configured (``CONTAINERS_STORAGE_CONF``, rootful or
rootless): ``podman image inspect`` says whether the image is there, and ``podman save``
(a docker archive on its stdout) is streamed into a spool file and read by the archive
parser, as the Docker engine's export is. The CLI, not the Docker-compatible API socket: the
socket needs a ``podman system service`` running, the CLI only podman itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

from ..errors import BadReferenceError, NotFoundError, SourceUnavailableError
from ..model import Image, ImageRef, SourceKind
from ..refs import RefSyntax, normalize_name
from .context import LoadContext

KIND = SourceKind("podman")
CHUNK_BYTES = 1 << 20
INSPECT_TIMEOUT_SECONDS = 120
_IMAGE_ID_RE = re.compile(r"(?:sha256:)?([a-f0-9]{64})")


def read_podman_name(body: str, original: str, cwd: Path | None) -> tuple[str, str | None]:
    """A name as typed (podman resolves short names its own way: ``localhost/`` first), checked
    against the Docker name grammar; or a full image ID, as ``sha256:<hex>``."""
    image_id = _IMAGE_ID_RE.fullmatch(body)
    if image_id:
        return f"sha256:{image_id.group(1)}", None
    try:
        normalize_name(body)
    except BadReferenceError as exc:
        raise BadReferenceError(f"{original}: {exc.message}") from None
    return body, None


SYNTAX = RefSyntax(
    KIND, ("podman",), "podman://NAME[:TAG] (Podman's image store)", read_podman_name
)


class PodmanSource:
    """The images of the local Podman."""

    syntax = SYNTAX

    def load(self, ref: ImageRef, ctx: LoadContext) -> Image:
        return load(ref, ctx)


SOURCE = PodmanSource()


def load(ref: ImageRef, ctx: LoadContext | None = None) -> Image:
    """Load the image ``ref`` names from Podman's store."""
    from .export import Export, engine_tags, load_export  # the archive parser, when used

    ctx = ctx or LoadContext()
    podman = _podman()
    label = str(ref) or ref.location
    info = _inspect(podman, ref.location, label)
    size = info.get("Size")
    return load_export(
        Export(
            lambda: _save(podman, ref.location, label),
            "podman",
            size if isinstance(size, int) and size > 0 else None,
            engine_tags(info.get("RepoTags")),
        ),
        ctx,
        label=label,
        selector=None,  # one image per save
        source=KIND,
        prefix="podman-",
        what="podman save",
    )


def _podman() -> str:
    found = shutil.which("podman")
    if found is None:
        raise SourceUnavailableError("podman is not installed (apt-get install podman)")
    return found


def _error_line(stderr: str) -> str:
    """podman's own words: its last ``Error:`` line, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    text = (errors or lines or ["no output"])[-1]
    return text.removeprefix("Error:").strip()


def _inspect(podman: str, name: str, label: str) -> dict[str, Any]:
    """podman's inspect document of ``name``; NotFoundError when it has no such image."""
    try:
        done = subprocess.run(
            [podman, "image", "inspect", "--format", "json", name],
            capture_output=True,
            text=True,
            timeout=INSPECT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceUnavailableError(f"podman image inspect {name} failed: {exc}") from exc
    if done.returncode != 0:
        if "image not known" in done.stderr:
            raise NotFoundError(f"podman has no image {name} ({label})")
        reason = _error_line(done.stderr)
        raise SourceUnavailableError(f"podman cannot inspect {name}: {reason}")
    try:
        found = json.loads(done.stdout)
    except json.JSONDecodeError:
        found = None
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        raise SourceUnavailableError(f"podman image inspect {name}: unexpected output")
    return found[0]


def _save(podman: str, name: str, label: str) -> Generator[bytes, None, None]:
    """``podman save`` of ``name`` (a docker archive), chunk by chunk."""
    with tempfile.TemporaryFile() as stderr:
        with subprocess.Popen(
            [podman, "save", "--format", "docker-archive", name],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        ) as proc:
            assert proc.stdout is not None
            try:
                while chunk := proc.stdout.read(CHUNK_BYTES):
                    yield chunk
            except BaseException:  # the reader stopped (GeneratorExit) or failed
                proc.kill()
                raise
        if proc.returncode != 0:
            stderr.seek(0)
            reason = _error_line(stderr.read().decode(errors="replace"))
            if "image not known" in reason:
                raise NotFoundError(f"podman has no image {name} ({label})")
            raise SourceUnavailableError(f"podman save {name} failed: {reason}")
