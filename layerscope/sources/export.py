"""Read an engine's export: spool it into the cache directory, parse it as an archive, remove it.

The Docker engine (``daemon``) and Podman (``podman``) hand their ``save`` streams to this.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..errors import LayerscopeError, StoreError
from ..model import Image, SourceKind
from .archive import load_path
from .context import LoadContext


def load_export(
    write: Callable[[IO[bytes]], None],
    ctx: LoadContext,
    *,
    label: str,
    selector: str | None,
    source: SourceKind,
    prefix: str,
    what: str,
) -> Image:
    """``write`` the export into a spool file and load the image ``selector`` picks from it.

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
            write(out)
        return load_path(
            spool, ctx, selector=selector, spool_dir=directory, ref=label, source=source
        )
    except LayerscopeError as exc:
        text = exc.message
        if str(spool) in text:
            raise type(exc)(text.replace(str(spool), f"{label} ({what})")) from exc
        raise
    finally:
        spool.unlink(missing_ok=True)
