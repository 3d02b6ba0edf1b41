"""Suggestions as text and as a versioned JSON document (schema_version 1)."""

from __future__ import annotations

import sys
import textwrap
from typing import Any

from ..analysis.suggest import SIZE_KINDS, Suggestion, SuggestionReport
from .text import counted, size

SUGGEST_SCHEMA_VERSION = 1
EVIDENCE_LIMIT = 50
"""Evidence items per suggestion in JSON (largest first); the rest are counted."""


def suggestion_item(s: Suggestion, with_patch: bool) -> dict[str, Any]:
    """One suggestion as a JSON object (docs/json-schema.md)."""
    doc: dict[str, Any] = {
        "id": s.id,
        "kind": s.kind.value,
        "title": s.title,
        "detail": s.detail,
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
        "patch_note": s.patch_note,
    }
    if with_patch:
        doc["patch"] = s.patch
    return doc


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
        "notes": list(report.notes),
    }
    if given:
        doc["patch"] = report.patch
        doc["patch_applies"] = list(report.applied)
        doc["patch_saving_bytes"] = report.applied_saving_bytes
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
        out.append("")
        out.append(f"[{s.id}] {s.title}" + (f"  ({', '.join(figures)})" if figures else ""))
        if s.lines:
            single = len(s.lines) == 1 and s.lines[0].start == s.lines[0].end
            out.append(("  line " if single else "  lines ") + ", ".join(
                str(x.start) if x.start == x.end else f"{x.start}-{x.end}" for x in s.lines
            ))  # fmt: skip
        out += prose(s.detail)
        for e in s.evidence[:5]:
            out.append(f"    {size(e.size_bytes):>9}  {e.path}  (layer {e.layer_index})")
        if len(s.evidence) > 5:
            out.append(f"    ... {len(s.evidence) - 5} more files")
        if s.overlaps_with:
            out += prose(f"overlaps with {', '.join(s.overlaps_with)} (bytes counted once)")
        if s.patch_note:
            out += prose(f"note: {s.patch_note}")
    for note in report.notes:
        out += prose(f"note: {note}", indent="")
    if show_patch and report.patch:
        out.append("")
        out.append(f"Combined patch ({', '.join(report.applied)}):")
        out.append(report.patch.rstrip("\n"))
    return "\n".join(out) + "\n"
