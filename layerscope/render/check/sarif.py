"""`check --format sarif`: SARIF 2.1.0, one result per failed or warned rule and per matching
suggestion; with ``--dockerfile`` results are located at Dockerfile lines."""

from __future__ import annotations

import json
from typing import Any

from layerscope import __version__
from layerscope.analysis.budget import Outcome
from layerscope.analysis.rules import RuleId
from layerscope.analysis.suggest.model import LineSpan, Suggestion, SuggestionKind
from layerscope.render.check.words import RULE_WORDS, CheckSubject, rule_span, sentence
from layerscope.render.suggest_words import words
from layerscope.render.units import size

__all__ = ["render_check_sarif", "sarif_document"]

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _location(dockerfile: str, span: LineSpan) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": dockerfile},
            "region": {"startLine": span.start, "endLine": max(span.start, span.end)},
        }
    }


def _logical(ref: str) -> dict[str, Any]:
    """Where a result without a Dockerfile line is: the image itself."""
    return {"logicalLocations": [{"fullyQualifiedName": ref, "kind": "resource"}]}


def _suggestion_message(s: Suggestion) -> str:
    saves = f" (saves {size(s.estimated_saving_bytes)})" if s.estimated_saving_bytes else ""
    return f"{words(s).title}{saves}. {words(s).detail}".strip()


def sarif_document(subject: CheckSubject) -> dict[str, Any]:
    """The SARIF log as a dict."""
    report = subject.report
    rules: list[dict[str, Any]] = [
        {
            "id": rule.value,
            "name": "".join(part.title() for part in rule.value.split("_")),
            "shortDescription": {"text": f"Image budget: {RULE_WORDS[rule].summary}"},
            "defaultConfiguration": {"level": "error"},
        }
        for rule in RuleId
    ]
    rules += [
        {
            "id": f"suggestion/{kind.value}",
            "name": "Suggestion" + "".join(p.title() for p in kind.value.split("_")),
            "shortDescription": {"text": f"Dockerfile suggestion: {kind.value.replace('_', ' ')}"},
            "defaultConfiguration": {"level": "note"},
        }
        for kind in SuggestionKind
    ]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    dockerfile = subject.dockerfile
    for r in report.results:
        if r.outcome not in (Outcome.FAIL, Outcome.WARN):
            continue
        result: dict[str, Any] = {
            "ruleId": r.id.value,
            "ruleIndex": index[r.id],
            "level": "error" if r.outcome is Outcome.FAIL else "warning",
            "message": {"text": sentence(r)},
        }
        result["locations"] = (
            [_location(dockerfile, rule_span(r))] if dockerfile else [_logical(subject.ref)]
        )
        results.append(result)
    for s in report.suggestions:
        result = {
            "ruleId": f"suggestion/{s.kind.value}",
            "ruleIndex": index[f"suggestion/{s.kind.value}"],
            "level": "note",
            "message": {"text": _suggestion_message(s)},
            "properties": {"estimated_saving_bytes": s.estimated_saving_bytes},
        }
        if dockerfile and s.lines:
            result["locations"] = [_location(dockerfile, span) for span in s.lines]
        else:
            result["locations"] = [_logical(subject.ref)]
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "layerscope",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {
                    "ref": subject.ref,
                    "image_id": subject.image_id,
                    "config": subject.config,
                    "passed": report.passed,
                },
            }
        ],
    }


def render_check_sarif(subject: CheckSubject) -> str:
    """The SARIF log as text."""
    return json.dumps(sarif_document(subject), indent=2) + "\n"
