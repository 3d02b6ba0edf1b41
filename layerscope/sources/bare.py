"""A bare ``NAME[:TAG]``: the Docker engine if it has the image, else the registry."""

from __future__ import annotations

from ..errors import LayerscopeError
from ..model import Image, ImageRef
from .context import LoadContext


def load(ref: ImageRef, ctx: LoadContext) -> Image:
    """Load ``ref`` from the engine when it has it, else pull it; when neither has it, the
    error names the engine before the registry's answer."""
    from . import daemon, registry

    in_engine = daemon.has_image(ref.location)
    if in_engine:
        return daemon.load(ref, ctx)
    try:
        return registry.load(ref, ctx)
    except LayerscopeError as exc:
        if in_engine is False:  # a reachable engine that lacks it: say so before the registry
            raise type(exc)(
                f"the Docker engine at {daemon.engine_host()} has no image {ref}; "
                f"the registry: {exc.message}"
            ) from exc
        raise
