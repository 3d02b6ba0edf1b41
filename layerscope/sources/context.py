"""The seam every source plugs into: ``Source.load(ref, ctx) -> Image``, one load context.

A source is an object with a ``syntax`` (how its references are written: ``refs.RefSyntax``,
from which the reference grammar and its help text are generated) and a ``load`` method. The
sources are registered in ``sources/__init__.py`` (docs/architecture.md, "Where a new source
goes").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from ..model import Image, ImageRef, LayerIndex, Platform, Progress
from ..platforms import parse_platform
from ..refs import RefSyntax

if TYPE_CHECKING:
    from ..credentials import Credentials
    from .registry_blobs import BlobKeeper

Defer = Callable[[Callable[[], None]], None]
"""Runs work in the background; the caller waits for it before it exits."""


@dataclass(frozen=True, slots=True)
class LoadContext:
    """Everything a source may need besides the reference: what to pick, how to report, which
    caches to use and how to reach registries. Every field has a default: ``LoadContext()``
    reads with no cache, no progress and the host's defaults."""

    platform: Platform | None = None
    """Pick this platform from a multi-platform index (``--platform``)."""
    progress: Progress | None = None
    verify: bool = False
    """Check every local blob against its digest (``--verify``; registry blobs always are)."""
    index: LayerIndex | None = None
    """Layer contents already read (the store's layer cache); shared layers are not read again."""
    defer: Defer | None = None
    """Runs work in the background (the caller waits for it later); None: at once. Used to
    check a local layer against its diff_id before it enters the cache, off the critical path."""
    lasting: bool = False
    """The command stays open after its loads (the TUI), so a big local layer's sha256 has time
    to finish in the background and is started; a one-shot command hashes no big local layer
    (it would be stopped at the command's end) and caches its walk under the file's identity
    (docs/architecture.md, "The layer cache and trust")."""
    insecure_registries: Sequence[str] = ()
    """Registry hosts the user trusts over plain HTTP or unverified TLS."""
    credentials: Credentials | None = None
    """Registry credentials from the command line; None: look them up when asked."""
    blob_cache: BlobKeeper | None = None
    """Where verified registry blobs are kept (``--keep-blobs``); a ``store.BlobCache``."""
    concurrency: int = 3
    """Layers pulled at once from a registry."""

    def loading(self, *, platform: str | None, progress: Progress | None) -> LoadContext:
        """This context for one load: ``platform`` as the user wrote it (parsed here, so a bad
        one is reported by the load that uses it), ``progress`` for that load."""
        wanted = parse_platform(platform) if platform else None
        return replace(self, platform=wanted, progress=progress)


class Source(Protocol):
    """One way to read images: a registered source (``sources/__init__.py``)."""

    @property
    def syntax(self) -> RefSyntax:
        """How its references are written: the kind, schemes and help words."""

    def load(self, ref: ImageRef, ctx: LoadContext) -> Image:
        """Read the image ``ref`` names; ``Image.source`` is the kind that read it."""


@dataclass(frozen=True, slots=True)
class Deferred:
    """A source whose module is imported at its first load (it needs a heavy library, such as
    the docker SDK or requests, that commands which never use it should not pay for). The
    module has a ``load(ref, ctx) -> Image`` function."""

    syntax: RefSyntax
    module: str
    """Its module under ``layerscope.sources``."""

    def load(self, ref: ImageRef, ctx: LoadContext) -> Image:
        loaded = importlib.import_module(f"{__package__}.{self.module}")
        image: Image = loaded.load(ref, ctx)
        return image
