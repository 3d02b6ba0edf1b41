"""Load an image from the local Docker engine through the docker SDK.

The engine's export (``GET /images/{name}/get``) is streamed into a spool file in the cache
directory and read by the archive parser; the spool file is removed afterwards. The API version
is negotiated with the engine (``version="auto"``), so the Debian 20.10 engine (API 1.41) and
newer ones both work.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import Any

import docker
import docker.errors

from ..errors import DaemonUnavailableError, LayerscopeError, NotFoundError
from ..model import Image, ImageRef, SourceKind
from ..refs import familiar_name
from .context import LoadContext
from .export import Export, engine_tags, load_export

NAME = "daemon"
DEFAULT_HOST = "unix:///var/run/docker.sock"
TIMEOUT_SECONDS = 60
"""How long an Engine API call (other than the export stream) may take."""
CHUNK_BYTES = 1 << 20


def engine_host() -> str:
    """The engine address the SDK will use (``$DOCKER_HOST`` or the default socket)."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def _unavailable(exc: BaseException | None = None) -> DaemonUnavailableError:
    reason = _reason(exc) if exc is not None else ""
    detail = f" ({reason})" if reason else ""
    return DaemonUnavailableError(
        f"cannot reach the Docker engine at {engine_host()}{detail}: is it running? "
        "(set DOCKER_HOST)"
    )


def _reason(exc: BaseException) -> str:
    """A few words on why a connection failed, from the exception or anything it wraps."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(e) for e in seen)
    for cls, words in (
        (FileNotFoundError, "no such socket"),
        (ConnectionRefusedError, "connection refused"),
        (PermissionError, "permission denied"),
    ):
        if any(isinstance(e, cls) for e in seen):
            return words
    for needle, words in (
        ("No such file or directory", "no such socket"),
        ("Connection refused", "connection refused"),
        ("Permission denied", "permission denied"),
        ("timed out", "timed out"),
        ("Name or service not known", "unknown host"),
    ):
        if needle in text:
            return words
    return ""


def connect() -> docker.DockerClient:
    """A client for the engine, with the API version negotiated; raises DaemonUnavailableError."""
    try:
        client = docker.from_env(version="auto", timeout=TIMEOUT_SECONDS)
    except docker.errors.DockerException as exc:
        raise _unavailable(exc) from exc
    return client


def _inspect(client: docker.DockerClient, name: str) -> dict[str, Any] | None:
    """The engine's inspect document for ``name``, or None if it has no such image."""
    try:
        info = client.api.inspect_image(name)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as exc:
        if exc.status_code is not None and 400 <= exc.status_code < 500:
            return None  # e.g. 400 for a reference the engine cannot parse
        raise DaemonUnavailableError(
            f"the Docker engine at {engine_host()} failed to inspect {name}: {_explain(exc)}"
        ) from exc
    except OSError as exc:  # requests' errors are OSErrors
        raise _unavailable(exc) from exc
    return info if isinstance(info, dict) else None


def has_image(name: str) -> bool | None:
    """Whether the engine has image ``name``; None when the engine cannot be reached."""
    try:
        client = connect()
    except DaemonUnavailableError:
        return None
    try:
        return _inspect(client, name) is not None
    except DaemonUnavailableError:
        return None
    finally:
        client.close()


def load(ref: ImageRef, ctx: LoadContext | None = None) -> Image:
    """Load the image ``ref`` names (a name or ``sha256:`` image ID) from the Docker engine."""
    ctx = ctx or LoadContext()
    name = ref.location
    label = str(ref) or name
    client = connect()
    try:
        info = _inspect(client, name)
        if info is None:
            raise NotFoundError(f"the Docker engine at {engine_host()} has no image {_shown(name)}")
        by_id = name.startswith("sha256:")
        # A name is exported by name, so the archive lists its tag; an ID by ID.
        target = name if not by_id else str(info.get("Id") or name)
        return load_export(
            Export(
                lambda: _export(client, target, label),
                "the Docker engine",
                _size(info),
                engine_tags(info.get("RepoTags")),
            ),
            ctx,
            label=label,
            selector=_selector(name),
            source=SourceKind.DAEMON,
            prefix="daemon-",
            what="engine export",
        )
    finally:
        client.close()


def _shown(name: str) -> str:
    if name.startswith("sha256:"):
        return name
    try:
        return familiar_name(name)
    except LayerscopeError:
        return name


def _selector(name: str) -> str | None:
    """The tag to pick from the export: the name when it has a tag and no digest."""
    if name.startswith("sha256:") or "@" in name:
        return None
    return name


def _size(info: dict[str, Any]) -> int | None:
    size = info.get("Size")
    return size if isinstance(size, int) and size > 0 else None


def _export(client: docker.DockerClient, target: str, label: str) -> Generator[bytes, None, None]:
    """The engine's export of ``target``, chunk by chunk."""
    chunks: Iterator[bytes] = client.api.get_image(target, chunk_size=CHUNK_BYTES)
    try:
        yield from chunks
    except docker.errors.NotFound as exc:
        raise NotFoundError(
            f"the Docker engine at {engine_host()} has no image {_shown(target)}"
        ) from exc
    except docker.errors.APIError as exc:
        raise DaemonUnavailableError(
            f"the Docker engine at {engine_host()} failed to export {label}: {_explain(exc)}"
        ) from exc
    except OSError as exc:  # requests' errors are OSErrors
        raise DaemonUnavailableError(
            f"the Docker engine at {engine_host()} stopped sending the export of {label}"
            + (f" ({_reason(exc)})" if _reason(exc) else "")
        ) from exc
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _explain(exc: docker.errors.APIError) -> str:
    text = exc.explanation if isinstance(exc.explanation, str) else str(exc)
    return " ".join(text.split()) or f"HTTP {exc.status_code}"
