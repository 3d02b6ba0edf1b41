"""How sources read a layer: the walker, keeping the bytes of the package databases.

``analysis.packages.PACKAGE_DATABASES`` is the one definition of those files; ``layers`` may
not import analysis, so the sources hand it to the walker here (docs/architecture.md). Every
layer read through a source keeps the same files, so the layer cache holds the same contents
whichever source filled it.
"""

from __future__ import annotations

from typing import IO

from ..analysis.packages import PACKAGE_DATABASES
from ..layers import FileSpan, LayerScan
from ..layers import scan_layer as _scan_layer
from ..model import Progress


def scan_layer(
    blob: IO[bytes] | memoryview | FileSpan,
    *,
    want_diff_id: bool = False,
    want_digest: bool = False,
    progress: Progress | None = None,
) -> LayerScan:
    """``layers.scan_layer`` keeping the package databases (``Layer.contents``)."""
    return _scan_layer(
        blob,
        keep=PACKAGE_DATABASES,
        want_diff_id=want_diff_id,
        want_digest=want_digest,
        progress=progress,
    )
