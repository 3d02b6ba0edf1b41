"""Read an engine's export: spool it into the cache directory, parse it as an archive, remove it.

The Docker engine (``daemon``) and Podman (``podman``) hand their ``save`` streams to this.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import LayerscopeError, StoreError
from ..model import Image, SourceKind
from .archive import load_path
from .context import LoadContext


@dataclass(frozen=True, slots=True)
class Export:
    """An engine's export of one image (a docker archive stream) and what the engine says of it."""

    open: Callable[[], Generator[bytes, None, None]]
    """Starts the export; the iterator raises the engine's errors as LayerscopeErrors."""
    engine: str
    """Who exports, for the progress display: ``the Docker engine``, ``podman``."""
    total: int | None
    """The image's size as the engine reports it (the progress total), if it does."""
    tags: tuple[str, ...] = ()
    """The engine's tags of the image, for an export that names none (one made by ID)."""


def load_export(
    export: Export,
    ctx: LoadContext,
    *,
    label: str,
    selector: str | None,
    source: SourceKind,
    prefix: str,
    what: str,
) -> Image:
    """Spool ``export`` into the cache directory and load the image ``selector`` picks from it.

    Errors that name the spool file name ``label (what)`` instead: the file is gone by then.
    """
    from . import spool_dir

    directory = spool_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tar", dir=directory)
    except OSError as exc:
        raise StoreError(f"cannot create a spool file in {directory}: {exc.strerror}") from exc
    spool = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            _spool(export, out, ctx, label)
        image = load_path(
            spool, ctx, selector=selector, spool_dir=directory, ref=label, source=source
        )
    except LayerscopeError as exc:
        text = exc.message
        if str(spool) in text:
            raise type(exc)(text.replace(str(spool), f"{label} ({what})")) from exc
        raise
    finally:
        spool.unlink(missing_ok=True)
    if not image.repo_tags and export.tags:
        image = dataclasses.replace(image, repo_tags=export.tags)
    return image


def _spool(export: Export, out: IO[bytes], ctx: LoadContext, label: str) -> None:
    if ctx.progress is not None:
        ctx.progress.stage(f"exporting {label} from {export.engine}", export.total)
    with closing(export.open()) as chunks:
        for chunk in chunks:
            try:
                out.write(chunk)
            except OSError as exc:
                raise StoreError(
                    f"cannot write the export of {label} to the cache: {exc.strerror}"
                ) from exc
            if ctx.progress is not None:
                ctx.progress.advance(len(chunk))


def engine_tags(names: object) -> tuple[str, ...]:
    """The tags in an engine's inspect document (``RepoTags``)."""
    if not isinstance(names, list):
        return ()
    return tuple(str(name) for name in names if isinstance(name, str))
