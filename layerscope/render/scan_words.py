"""The words for the registry report's findings (the kinds live in ``analysis.registry``)."""

from __future__ import annotations

from ..analysis.registry import FindingKind

FINDING_TITLES: dict[FindingKind, str] = {
    FindingKind.TOOLCHAIN: "build toolchains in the final image",
    FindingKind.PACKAGE_CACHE: "package manager caches",
    FindingKind.PYCACHE: "__pycache__ bytecode",
    FindingKind.DUPLICATE_FILES: "duplicate large files",
    FindingKind.MODEL_FILES: "model or data files in volatile layers",
}
