"""Image sources: every transport returns the same ``Image``.

``load_image`` is the one entry point: it parses the reference and picks the source.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import BadReferenceError
from ..model import Image, ImageRef, Progress, SourceKind
from ..platforms import parse_platform
from ..refs import parse_ref


def spool_dir() -> Path:
    """Where compressed outer archives are decompressed to (inside the cache directory)."""
    from ..config_paths import cache_dir

    return cache_dir() / "spool"


def load_image(
    ref: str | ImageRef,
    *,
    platform: str | None = None,
    progress: Progress | None = None,
    verify: bool = False,
) -> Image:
    """Load the image ``ref`` names (see design.md "Image references")."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    wanted = parse_platform(platform) if platform else None
    if parsed.kind in (SourceKind.ARCHIVE, SourceKind.OCI_LAYOUT, SourceKind.OCI_ARCHIVE):
        from .archive import load_path

        source = {
            SourceKind.ARCHIVE: "docker-archive",
            SourceKind.OCI_LAYOUT: "oci",
            SourceKind.OCI_ARCHIVE: "oci-archive",
        }[parsed.kind]
        return load_path(
            Path(parsed.location),
            selector=parsed.selector,
            platform=wanted,
            spool_dir=spool_dir(),
            ref=str(parsed),
            source=source,
            progress=progress,
            verify=verify,
        )
    raise BadReferenceError(
        f"{parsed}: daemon and registry sources are not available in this version; "
        "pass a docker save archive or an OCI layout"
    )
