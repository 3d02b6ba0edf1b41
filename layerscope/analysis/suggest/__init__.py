"""Dockerfile suggestions measured from the image: what to change, what it saves, the patch."""

from __future__ import annotations

from layerscope.analysis import Analysis
from layerscope.analysis.package_index import PackageIndex
from layerscope.dockerfile import Dockerfile
from layerscope.model import Image

from .cleanup import find_cleanups
from .context import build_context
from .copy_chmod import find_copy_chmods
from .dockerignore import find_dockerignore
from .merge import find_merges
from .ml import find_duplicates, find_models
from .model import (
    CacheHints,
    Edit,
    Evidence,
    HistoryHints,
    InstructionStats,
    LineSpan,
    Suggestion,
    SuggestionKind,
    SuggestionReport,
)
from .packages import find_package_suggestions
from .patching import DOCKERFILE, DOCKERIGNORE, conflict, patch_for
from .reorder import find_reorders
from .reproducible import find_non_reproducible, find_pin_base

__all__ = [
    "CacheHints",
    "Edit",
    "Evidence",
    "HistoryHints",
    "InstructionStats",
    "LineSpan",
    "Suggestion",
    "SuggestionKind",
    "SuggestionReport",
    "SIZE_KINDS",
    "suggest",
]

SIZE_KINDS = frozenset(
    {
        SuggestionKind.MERGE_RUN,
        SuggestionKind.SAME_LAYER_CLEANUP,
        SuggestionKind.NO_INSTALL_RECOMMENDS,
        SuggestionKind.COPY_CHMOD,
        SuggestionKind.DOCKERIGNORE,
        SuggestionKind.MULTI_STAGE,
        SuggestionKind.DUPLICATE_FILES,
    }
)
"""Kinds whose evidence is bytes removed from the image (counted in the report total)."""

_PREFIX = {
    SuggestionKind.MERGE_RUN: "merge",
    SuggestionKind.SAME_LAYER_CLEANUP: "cleanup",
    SuggestionKind.NO_INSTALL_RECOMMENDS: "recommends",
    SuggestionKind.COPY_CHMOD: "chmod",
    SuggestionKind.REORDER_FOR_CACHE: "reorder",
    SuggestionKind.DOCKERIGNORE: "dockerignore",
    SuggestionKind.MULTI_STAGE: "multistage",
    SuggestionKind.PIN_BASE: "pin",
    SuggestionKind.NON_REPRODUCIBLE: "reproducible",
    SuggestionKind.DUPLICATE_FILES: "duplicates",
    SuggestionKind.LARGE_MODEL_FILES: "models",
}


def _key(e: Evidence) -> tuple[str, int]:
    return (e.path, e.layer_index)


def suggest(
    analysis: Analysis,
    *,
    dockerfile: Dockerfile | None = None,
    dockerignore: str | None = None,
    history: CacheHints | None = None,
    packages: PackageIndex | None = None,
    previous: Image | None = None,
) -> SuggestionReport:
    """Every suggestion for the analysed image, largest saving first, with a combined patch.

    ``dockerfile`` (parsed) enables line spans and patches, ``dockerignore`` is the current
    ``.dockerignore`` text (None: there is none), ``history`` gives per-instruction cache
    misses, ``packages`` reuses a package index, ``previous`` is the previous build of the
    image (for non-reproducible layers). Pure: no I/O.
    """
    ctx = build_context(analysis, dockerfile, dockerignore, history, previous)
    found: list[Suggestion] = [
        *find_merges(ctx),
        *find_cleanups(ctx),
        *find_package_suggestions(ctx, packages),
        *find_copy_chmods(ctx),
        *find_dockerignore(ctx),
        *find_duplicates(ctx),
        *find_models(ctx),
        *find_reorders(ctx),
        *find_pin_base(ctx),
        *find_non_reproducible(ctx),
    ]
    found.sort(
        key=lambda s: (
            -s.estimated_saving_bytes,
            -(s.estimated_saving_rebuilds or 0),
            s.kind.value,
            s.layers,
        )
    )
    counts: dict[str, int] = {}
    named: list[Suggestion] = []
    for s in found:
        prefix = _PREFIX[s.kind]
        counts[prefix] = counts.get(prefix, 0) + 1
        named.append(_with(s, id=f"{prefix}-{counts[prefix]}"))
    files = {DOCKERFILE: dockerfile.text} if ctx.dockerfile is not None and dockerfile else {}
    if files:
        files[DOCKERIGNORE] = dockerignore or ""
    named = [_own_patch(s, files) for s in named]
    named = _overlaps(named)
    union: dict[tuple[str, int], int] = {}
    for s in named:
        if s.kind in SIZE_KINDS:
            for e in s.evidence:
                union[_key(e)] = e.size_bytes
    patch, patched, applied = _combine(named, files)
    chosen: dict[tuple[str, int], int] = {}
    for s in named:
        if s.kind in SIZE_KINDS and s.id in applied:
            for e in s.evidence:
                chosen[_key(e)] = e.size_bytes
    return SuggestionReport(
        suggestions=tuple(named),
        total_saving_bytes=sum(union.values()),
        patch=patch,
        patched_files=patched,
        applied=applied,
        applied_saving_bytes=sum(chosen.values()),
        notes=tuple(ctx.notes),
    )


def _with(s: Suggestion, **changes: object) -> Suggestion:
    from dataclasses import replace

    return replace(s, **changes)  # type: ignore[arg-type]


def _own_patch(s: Suggestion, files: dict[str, str]) -> Suggestion:
    if not files or not s.edits:
        return s
    made = patch_for(s.edits, files)
    if made is None:
        return _with(s, edits=(), patch=None, patch_note="the edit would not parse: none offered")
    return _with(s, patch=made[0])


def _overlaps(items: list[Suggestion]) -> list[Suggestion]:
    keys = [{_key(e) for e in s.evidence} for s in items]
    out = []
    for n, s in enumerate(items):
        others = tuple(
            o.id for m, o in enumerate(items) if m != n and keys[n] and keys[n] & keys[m]
        )
        out.append(_with(s, overlaps_with=others) if others else s)
    return out


def _combine(
    items: list[Suggestion], files: dict[str, str]
) -> tuple[str | None, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Apply every suggestion whose edits conflict with none taken before (largest first)."""
    if not files:
        return None, (), ()
    taken: list[Edit] = []
    applied: list[str] = []
    for s in items:
        if s.patch is None or conflict(taken, s.edits):
            continue
        if patch_for([*taken, *s.edits], files) is None:
            continue
        taken.extend(s.edits)
        applied.append(s.id)
    made = patch_for(taken, files) if taken else None
    if made is None:
        return None, (), ()
    return made[0], tuple(sorted(made[1].items())), tuple(applied)
