"""Evaluate an image against a size budget: one verdict per rule, with measured value and
threshold. The rules are specs (``specs.py``): each measures, the verdict is computed here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from layerscope.analysis.budget.paths import forbidden_hits, glob_regex
from layerscope.analysis.budget.results import (
    Baseline,
    BudgetInputs,
    BudgetReport,
    BuildRef,
    CacheComparison,
    Detail,
    ForbiddenHit,
    Measurement,
    Note,
    Outcome,
    RuleResult,
)
from layerscope.analysis.budget.specs import RULES, SPECS, RuleSpec
from layerscope.analysis.rules import RuleId, RuleSettings, Severity

if TYPE_CHECKING:
    from layerscope.analysis import Analysis
    from layerscope.analysis.suggest.model import Suggestion

__all__ = [
    "Baseline",
    "BudgetInputs",
    "BudgetReport",
    "BuildRef",
    "CacheComparison",
    "Detail",
    "ForbiddenHit",
    "Measurement",
    "Note",
    "Outcome",
    "RULES",
    "RuleResult",
    "RuleSpec",
    "SPECS",
    "evaluate_budget",
    "forbidden_hits",
    "glob_regex",
]


def evaluate_budget(
    analysis: Analysis,
    settings: Mapping[RuleId, RuleSettings],
    *,
    baseline: Baseline | None = None,
    cache: CacheComparison | None = None,
    suggestions: Sequence[Suggestion] = (),
) -> BudgetReport:
    """Every rule of ``specs.RULES`` applied to ``analysis`` (a rule missing from ``settings``
    is off). Failed and warned rules carry the ``suggestions`` of the kinds that help with them."""
    inputs = BudgetInputs(analysis, baseline, cache)
    results: list[RuleResult] = []
    for spec in RULES:
        result = _evaluate(spec, settings.get(spec.id, RuleSettings(spec.id, None)), inputs)
        if result.outcome in (Outcome.FAIL, Outcome.WARN):
            matched = tuple(s for s in suggestions if s.kind in spec.helps)
            result = replace(result, suggestions=matched)
        results.append(result)
    return BudgetReport(tuple(results))


def _evaluate(spec: RuleSpec, rule: RuleSettings, inputs: BudgetInputs) -> RuleResult:
    base = RuleResult(
        id=spec.id,
        kind=spec.kind,
        maximum=spec.maximum,
        outcome=Outcome.SKIP,
        severity=rule.severity,
        enabled=rule.enabled,
        threshold=rule.threshold,
        measured=None,
        detail=spec.detail,
    )
    if not rule.enabled or rule.threshold is None:
        return replace(base, note=Note.DISABLED)
    found = spec.measure(inputs, rule.threshold)
    outcome = Outcome.SKIP
    if not found.skipped:
        broken = found.broken
        if broken is None:
            broken = _beyond(spec, found.value, rule.threshold)
        outcome = _broken(rule.severity) if broken else Outcome.PASS
    return replace(
        base,
        outcome=outcome,
        measured=found.value,
        note=found.note,
        layer_index=found.layer_index,
        forbidden=found.forbidden,
        baseline=found.baseline,
        reference_bytes=found.reference_bytes,
        previous_build=found.previous_build,
    )


def _beyond(spec: RuleSpec, measured: object, threshold: object) -> bool:
    """Strictly above a maximum or below a minimum (NaN is neither, as in dive)."""
    assert isinstance(measured, int | float) and isinstance(threshold, int | float)
    return measured > threshold if spec.maximum else threshold > measured


def _broken(severity: Severity) -> Outcome:
    return Outcome.FAIL if severity is Severity.ERROR else Outcome.WARN
