"""Image sources: every transport returns the same ``Image``.

``load_image`` is the one entry point: it parses the reference with the grammar of the
registered sources and hands it to the source of its kind (design.md, "Image references";
docs/architecture.md, "Where a new source goes"). A source is one module; registering it is
one line in ``SOURCES``.
"""

from __future__ import annotations

from pathlib import Path

from .. import refs
from ..errors import BadReferenceError
from ..model import Image, ImageRef
from . import podman
from .blobs import default_spool_dir
from .context import Deferred, LoadContext, Source

SOURCES: tuple[Source, ...] = (
    Deferred(refs.DOCKER_ARCHIVE, "archive"),
    Deferred(refs.OCI_LAYOUT, "archive"),
    Deferred(refs.OCI_ARCHIVE, "archive"),
    Deferred(refs.DAEMON, "daemon"),
    Deferred(refs.REGISTRY, "registry"),
    Deferred(refs.BARE, "bare"),
    podman.SOURCE,
)
"""The registered sources, in the order the reference help lists them."""

GRAMMAR = refs.Grammar(source.syntax for source in SOURCES)
_BY_KIND = {source.syntax.kind: source for source in SOURCES}


def parse_ref(text: str, *, cwd: Path | None = None) -> ImageRef:
    """Parse a reference with the grammar of the registered sources."""
    return GRAMMAR.parse(text, cwd=cwd)


def ref_help() -> str:
    """The help text of a REF argument, made from the registered sources."""
    return GRAMMAR.help()


def spool_dir() -> Path:
    """Where exports and compressed outer archives are spooled (inside the cache directory)."""
    return default_spool_dir()


def load_image(ref: str | ImageRef, ctx: LoadContext | None = None) -> Image:
    """Load the image ``ref`` names. ``Image.source`` says which source read it."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    source = _BY_KIND.get(parsed.kind)
    if source is None:
        raise BadReferenceError(f"{parsed}: no source reads references of kind {parsed.kind}")
    return source.load(parsed, ctx or LoadContext())


__all__ = [
    "GRAMMAR",
    "SOURCES",
    "LoadContext",
    "Source",
    "load_image",
    "parse_ref",
    "ref_help",
    "spool_dir",
]
