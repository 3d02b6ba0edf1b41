"""Suggestions as text and as a versioned JSON document (schema_version 1)."""

from __future__ import annotations

import sys
import textwrap
from typing import Any

from ..analysis.suggest import (
    SIZE_KINDS,
    EstimateBasis,
    LeftOut,
    LeftOutReason,
    Suggestion,
    SuggestionReport,
)
from .suggest_words import covered_titles, left_out_detail, note_words, notes_words, words
from .units import counted, size

SUGGEST_SCHEMA_VERSION = 1
EVIDENCE_LIMIT = 50
"""Evidence items per suggestion in JSON (largest first); the rest are counted."""


def suggestion_item(s: Suggestion, with_patch: bool) -> dict[str, Any]:
    """One suggestion as a JSON object (docs/json-schema.md)."""
    said = words(s)
    doc: dict[str, Any] = {
        "id": s.id,
        "kind": s.kind.value,
        "title": said.title,
        "detail": said.detail,
        "layers": list(s.layers),
        "instructions": list(s.instructions),
        "lines": [{"start": span.start, "end": span.end} for span in s.lines],
        "estimated_saving_bytes": s.estimated_saving_bytes,
        "saving_counts_in_total": s.kind in SIZE_KINDS,
        "estimated_saving_rebuilds": s.estimated_saving_rebuilds,
        "estimated_saving_seconds": s.estimated_saving_seconds,
        "evidence": [
            {"path": e.path, "size_bytes": e.size_bytes, "layer": e.layer_index}
            for e in s.evidence[:EVIDENCE_LIMIT]
        ],
        "evidence_count": len(s.evidence),
        "overlaps_with": list(s.overlaps_with),
        "patch_note": notes_words(s.patch_notes),
        "estimated_saving_rebuild_bytes": s.estimated_saving_rebuild_bytes,
        "estimate_basis": s.estimate_basis.value if s.estimate_basis is not None else None,
        "covers": list(covered_titles(s)),
        "measured_saving_bytes": s.measured_saving_bytes,
        "measured_note": s.measured_note,
    }
    if with_patch:
        doc["patch"] = s.patch
    return doc


def left_out_item(item: LeftOut) -> dict[str, Any]:
    """One suggestion left out of the combined patch, as a JSON object."""
    return {
        "id": item.id,
        "reason": item.reason.value,
        "conflicts_with": list(item.with_ids),
        "detail": left_out_detail(item) or None,
        "why": left_out_words(item),
    }


def left_out_words(item: LeftOut) -> str:
    """Why a suggestion is not in the combined patch, in words."""
    said = left_out_detail(item)
    detail = f": {said}" if said else ""
    if item.reason is LeftOutReason.CONFLICT:
        verb = "changes" if len(item.with_ids) == 1 else "change"
        return f"it changes what {', '.join(item.with_ids)} already {verb} in the patch"
    if item.reason is LeftOutReason.NEEDS_CHOICE:
        return "it needs a choice only you can make" + detail
    if item.reason is LeftOutReason.BREAKS_DEPENDENCY:
        return "with the rest of the patch it would break the build" + detail
    if item.reason is LeftOutReason.BUILD_FAILED:
        return "a real build of the patch failed" + detail
    if item.reason is LeftOutReason.NO_DOCKERFILE_FIT:
        return "with the rest of the patch the Dockerfile would not parse"
    return "no automatic patch" + detail


def cache_figures(s: Suggestion) -> str | None:
    """What a cache suggestion keeps from being rebuilt, and where the figure comes from."""
    if s.estimated_saving_rebuild_bytes is None:
        return None
    if s.estimate_basis is EstimateBasis.HISTORY:
        return f"{size(s.estimated_saving_rebuild_bytes)} not rebuilt over the recorded builds"
    return (
        f"{size(s.estimated_saving_rebuild_bytes)} of layers not rebuilt per source edit "
        "(expected from the step order; no recorded builds)"
    )


def suggest_document(
    report: SuggestionReport, *, ref: str, dockerfile: str | None
) -> dict[str, Any]:
    """The ``layerscope suggest --json`` document."""
    given = dockerfile is not None
    doc: dict[str, Any] = {
        "schema_version": SUGGEST_SCHEMA_VERSION,
        "image": ref,
        "dockerfile": dockerfile,
        "total_saving_bytes": report.total_saving_bytes,
        "suggestions": [suggestion_item(s, given) for s in report.suggestions],
        "notes": [note_words(n) for n in report.notes],
    }
    if given:
        doc["patch"] = report.patch
        doc["patch_applies"] = list(report.applied)
        doc["patch_saving_bytes"] = report.applied_saving_bytes
        doc["left_out"] = [left_out_item(item) for item in report.left_out]
        doc["measured_patch_saving_bytes"] = report.measured_patch_saving_bytes
    return doc


def render_suggest_text(
    report: SuggestionReport, *, ref: str, show_patch: bool = True, width: int = 100
) -> str:
    """A plain-text list of suggestions, then the combined patch; prose wrapped to ``width``
    columns (paths and the patch never are)."""

    def prose(text: str, indent: str = "  ") -> list[str]:
        return textwrap.wrap(
            text,
            width=max(40, width) if width > 0 else sys.maxsize,  # 0: never wrap
            initial_indent=indent,
            subsequent_indent=indent + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        )

    total = size(report.total_saving_bytes)
    out = [
        f"Suggestions for {ref}: {len(report.suggestions)}, "
        f"{total} to save (each stored file counted once)"
    ]
    for s in report.suggestions:
        figures = []
        if s.estimated_saving_bytes:
            figures.append(size(s.estimated_saving_bytes))
        if s.estimated_saving_rebuilds is not None:
            figures.append(counted(s.estimated_saving_rebuilds, "rebuild"))
        if s.estimated_saving_seconds is not None:
            figures.append(f"{s.estimated_saving_seconds:.0f} s")
        said = words(s)
        out.append("")
        out.append(f"[{s.id}] {said.title}" + (f"  ({', '.join(figures)})" if figures else ""))
        if s.lines:
            single = len(s.lines) == 1 and s.lines[0].start == s.lines[0].end
            out.append(("  line " if single else "  lines ") + ", ".join(
                str(x.start) if x.start == x.end else f"{x.start}-{x.end}" for x in s.lines
            ))  # fmt: skip
        out += prose(said.detail)
        for e in s.evidence[:5]:
            out.append(f"    {size(e.size_bytes):>9}  {e.path}  (layer {e.layer_index})")
        if len(s.evidence) > 5:
            out.append(f"    ... {counted(len(s.evidence) - 5, 'more file')}")
        if s.overlaps_with:
            out += prose(f"overlaps with {', '.join(s.overlaps_with)} (bytes counted once)")
        if s.covers:
            out += prose(f"also covers: {'; '.join(covered_titles(s))}")
        cache = cache_figures(s)
        if cache:
            out += prose(cache)
        if s.measured_saving_bytes is not None:
            out += prose(f"measured: {size(s.measured_saving_bytes)} saved by a real build")
        if s.patch_notes:
            out += prose(f"note: {notes_words(s.patch_notes)}")
    for note in report.notes:
        out += prose(f"note: {note_words(note)}", indent="")
    if report.left_out:
        out.append("")
        out.append("Left out of the combined patch:")
        for item in report.left_out:
            out += prose(f"{item.id}: {left_out_words(item)}")
    if show_patch and report.patch:
        out.append("")
        out.append(f"Combined patch ({', '.join(report.applied)}):")
        out.append(report.patch.rstrip("\n"))
    return "\n".join(out) + "\n"
