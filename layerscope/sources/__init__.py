"""Image sources: every transport returns the same ``Image``.

``load_image`` is the one entry point: it parses the reference and picks the source
(design.md, "Image references").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LayerscopeError
from ..model import Image, ImageRef, LayerIndex, Progress, SourceKind
from ..platforms import parse_platform
from ..refs import parse_ref
from .blobs import default_spool_dir

if TYPE_CHECKING:
    from ..credentials import Credentials
    from .registry_blobs import BlobKeeper

_ARCHIVE_SOURCES = {
    SourceKind.ARCHIVE: "docker-archive",
    SourceKind.OCI_LAYOUT: "oci",
    SourceKind.OCI_ARCHIVE: "oci-archive",
}


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How to reach sources: cache, registries the user trusts over plain HTTP, credentials."""

    index: LayerIndex | None = None
    """Layer contents already read (the store's layer cache); shared layers are not read again."""
    insecure_registries: Sequence[str] = ()
    credentials: Credentials | None = None
    """Registry credentials from the command line; None: look them up when asked."""
    blob_cache: BlobKeeper | None = None
    """Where verified registry blobs are kept (``--keep-blobs``); a ``store.BlobCache``."""
    concurrency: int = 3
    """Layers pulled at once from a registry."""
    defer: Callable[[Callable[[], None]], None] | None = None
    """Runs work in the background (the caller waits for it later); None: at once. Used to
    check a local layer against its diff_id before it enters the cache, off the critical path."""


def spool_dir() -> Path:
    """Where exports and compressed outer archives are spooled (inside the cache directory)."""
    return default_spool_dir()


def load_image(
    ref: str | ImageRef,
    *,
    platform: str | None = None,
    progress: Progress | None = None,
    verify: bool = False,
    options: SourceOptions | None = None,
) -> Image:
    """Load the image ``ref`` names. ``Image.source`` says which transport was used."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    wanted = parse_platform(platform) if platform else None
    opts = options or SourceOptions()
    if parsed.kind in _ARCHIVE_SOURCES:
        from .archive import load_path

        return load_path(
            Path(parsed.location),
            selector=parsed.selector,
            platform=wanted,
            ref=str(parsed),
            source=_ARCHIVE_SOURCES[parsed.kind],
            progress=progress,
            verify=verify,
            index=opts.index,
            defer=opts.defer,
        )
    from . import daemon

    in_engine = daemon.has_image(parsed.location) if parsed.kind is SourceKind.BARE else None
    if parsed.kind is SourceKind.DAEMON or in_engine:
        return daemon.load(
            parsed,
            platform=wanted,
            progress=progress,
            verify=verify,
            index=opts.index,
            defer=opts.defer,
        )
    from . import registry

    try:
        return registry.load(
            parsed,
            platform=wanted,
            progress=progress,
            index=opts.index,
            insecure=opts.insecure_registries,
            credentials=opts.credentials,
            concurrency=opts.concurrency,
            keeper=opts.blob_cache,
        )
    except LayerscopeError as exc:
        if in_engine is False:  # a reachable engine that lacks it: say so before the registry
            raise type(exc)(
                f"the Docker engine at {daemon.engine_host()} has no image {parsed}; "
                f"the registry: {exc.message}"
            ) from exc
        raise
