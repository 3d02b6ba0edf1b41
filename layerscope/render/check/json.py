"""`check --format json` (schema_version 1, documented in docs/json-schema.md)."""

from __future__ import annotations

import json
import math
from typing import Any

from layerscope import __version__
from layerscope.analysis.budget import Detail, Outcome, RuleResult
from layerscope.render.check.words import CheckSubject, baseline_label, build_label, sentence
from layerscope.render.suggest_words import words

__all__ = ["check_document", "render_check_json"]

SCHEMA_VERSION = 1


def _number(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    return value


def _rule(result: RuleResult, subject: CheckSubject) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": result.id.value,
        "status": result.outcome.value,
        "severity": result.severity.value,
        "enabled": result.enabled,
        "unit": result.kind.value,
        "comparison": "max" if result.maximum else "min",
        "threshold": _number(result.threshold) if result.enabled else None,
        "measured": _number(result.measured),
        "note": result.note.value if result.note else None,
        "message": sentence(result),
    }
    if result.detail is Detail.LARGEST_LAYER:
        doc["layer_index"] = result.layer_index
    if result.detail is Detail.FORBIDDEN_PATHS:
        doc["paths"] = [
            {
                "path": h.path,
                "pattern": h.pattern,
                "layer_index": h.layer_index,
                "visible": h.visible,
            }
            for h in result.forbidden
        ]
    if result.baseline is not None:
        b = result.baseline
        doc["baseline"] = {
            "label": baseline_label(b),
            "source": b.source,
            "size_bytes": b.size_bytes,
            "compressed_size_bytes": b.compressed_size_bytes,
            "layer_count": b.layer_count,
        }
    if result.detail is Detail.PREVIOUS_BUILD:
        previous = result.previous_build
        doc["previous_build"] = build_label(previous) if previous is not None else None
    doc["suggestions"] = [s.id for s in result.suggestions]
    return doc


def check_document(subject: CheckSubject) -> dict[str, Any]:
    """The JSON document as a dict."""
    report = subject.report
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "layerscope", "version": __version__},
        "ref": subject.ref,
        "image_id": subject.image_id,
        "config": subject.config,
        "passed": report.passed,
        "counts": {o.value: report.count(o) for o in Outcome} | {"total": len(report.results)},
        "rules": [_rule(r, subject) for r in report.results],
        "suggestions": [
            {
                "id": s.id,
                "kind": s.kind.value,
                "title": words(s).title,
                "detail": words(s).detail,
                "estimated_saving_bytes": s.estimated_saving_bytes,
                "layers": list(s.layers),
                "dockerfile_lines": [[span.start, span.end] for span in s.lines],
            }
            for s in report.suggestions
        ],
    }


def render_check_json(subject: CheckSubject, *, indent: int | None = 2) -> str:
    """The JSON document as text."""
    return json.dumps(check_document(subject), indent=indent, allow_nan=False) + "\n"
