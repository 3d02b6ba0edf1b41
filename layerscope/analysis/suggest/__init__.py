"""Dockerfile suggestions measured from the image: what to change, what it saves, the patch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from layerscope.analysis import Analysis
from layerscope.analysis.package_index import PackageIndex
from layerscope.dockerfile import Dockerfile
from layerscope.model import Image

from .cleanup import find_cleanups
from .compose import Files, combine, make_patch
from .context import build_context, copied_names
from .copy_chmod import find_copy_chmods
from .dockerignore import find_dockerignore, fold_duplicates
from .facts import FACTS_OF, SuggestionFacts
from .merge import find_merges
from .ml import find_duplicates, find_models
from .model import (
    CacheHints,
    EstimateBasis,
    Evidence,
    HistoryHints,
    InstructionStats,
    LeftOut,
    LeftOutReason,
    LineSpan,
    Op,
    OpKind,
    PatchPaths,
    Suggestion,
    SuggestionKind,
    SuggestionReport,
)
from .notes import NoteKind, PatchNote, note
from .packages import find_package_suggestions
from .reorder import find_reorders
from .reproducible import find_non_reproducible, find_pin_base

__all__ = [
    "CacheHints",
    "EstimateBasis",
    "Evidence",
    "FACTS_OF",
    "HistoryHints",
    "InstructionStats",
    "LeftOut",
    "LeftOutReason",
    "LineSpan",
    "Op",
    "OpKind",
    "PatchPaths",
    "Suggestion",
    "SuggestionFacts",
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
    paths: PatchPaths | None = None,
    failed: Mapping[str, str] | None = None,
) -> SuggestionReport:
    """Every suggestion for the analysed image, largest saving first, with a combined patch.

    ``dockerfile`` (parsed) enables line spans and patches, ``dockerignore`` is the current
    ``.dockerignore`` text of the build context (None: there is none), ``history`` gives
    per-instruction cache misses, ``packages`` reuses a package index, ``previous`` is the
    previous build of the image (for non-reproducible layers), ``paths`` names the files in the
    patch (default ``Dockerfile`` and ``.dockerignore``), ``failed`` maps ids of suggestions a
    real build of the patch broke to what the build said: the combined patch leaves them out
    (ids are stable for the same inputs). Pure: no I/O.
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
    named = _named(fold_duplicates(found))
    files = None
    if ctx.dockerfile is not None and dockerfile is not None:
        where = paths or PatchPaths()
        files = Files(
            dockerfile, dockerignore, where.dockerfile, where.dockerignore, copied_names(ctx)
        ).checked()
        named = [_own_patch(s, files) for s in named]
    else:
        named = [replace(s, ops=()) for s in named]
    named = _overlaps(named)
    combined = combine(named, files, failed) if files is not None else None
    applied = combined.applied if combined is not None else ()
    made = combined.patch if combined is not None else None
    return SuggestionReport(
        suggestions=tuple(named),
        total_saving_bytes=_union_bytes(named),
        patch=made.diff if made is not None else None,
        patched_files=tuple(sorted(made.texts.items())) if made is not None else (),
        applied=applied,
        applied_saving_bytes=_union_bytes([s for s in named if s.id in applied]),
        notes=tuple(ctx.notes),
        left_out=combined.left_out if combined is not None else (),
    )


def _named(found: list[Suggestion]) -> list[Suggestion]:
    """Largest saving first, each with its id (``merge-1``: stable for the same inputs)."""
    found = sorted(
        found,
        key=lambda s: (
            -s.estimated_saving_bytes,
            -(s.estimated_saving_rebuilds or 0),
            -(s.estimated_saving_rebuild_bytes or 0),
            s.kind.value,
            s.layers,
        ),
    )
    counts: dict[str, int] = {}
    named: list[Suggestion] = []
    for s in found:
        prefix = _PREFIX[s.kind]
        counts[prefix] = counts.get(prefix, 0) + 1
        named.append(replace(s, id=f"{prefix}-{counts[prefix]}"))
    return named


def _union_bytes(items: list[Suggestion]) -> int:
    """Bytes of the evidence of the size suggestions among ``items``, each stored file (path,
    layer) counted once."""
    union: dict[tuple[str, int], int] = {}
    for s in items:
        if s.kind in SIZE_KINDS:
            for e in s.evidence:
                union[_key(e)] = e.size_bytes
    return sum(union.values())


def _own_patch(s: Suggestion, files: Files) -> Suggestion:
    if not s.ops:
        return s
    made = make_patch(files, s.ops)
    if made is None:
        return replace(s, ops=(), patch=None, patch_notes=(note(NoteKind.EDIT_WOULD_NOT_PARSE),))
    if made.violations:  # offered only together with what makes it sound (see combine)
        broken = PatchNote(NoteKind.BREAKS_ALONE, violations=made.violations)
        return replace(s, patch=None, patch_notes=(broken,))
    return replace(s, patch=made.diff)


def _overlaps(items: list[Suggestion]) -> list[Suggestion]:
    keys = [{_key(e) for e in s.evidence} for s in items]
    out = []
    for n, s in enumerate(items):
        others = tuple(
            o.id for m, o in enumerate(items) if m != n and keys[n] and keys[n] & keys[m]
        )
        out.append(replace(s, overlaps_with=others) if others else s)
    return out
