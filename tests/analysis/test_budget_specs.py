"""The budget rule specs: one per rule id, each measurement against hand-computed values."""

from __future__ import annotations

from dataclasses import replace

import pytest

from layerscope.analysis import analyze
from layerscope.analysis.budget import (
    RULES,
    SPECS,
    Baseline,
    BudgetReport,
    BuildRef,
    CacheComparison,
    Detail,
    Note,
    Outcome,
    RuleResult,
    evaluate_budget,
)
from layerscope.analysis.rules import RuleId, RuleSettings, Severity, Threshold
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import memory_image as image

# 3,000 + (100 + 20 + 5) + 200 = 3,325 bytes; the first /app/main.py (100 B) is overwritten
IMAGE = image(
    [f("/bin/sh", 3000)],
    [f("/app/main.py", 100), f("/app/.git/config", 20), f("/app/key.pem", 5)],
    [f("/app/main.py", 200)],
    labels=[("org.opencontainers.image.source", "x")],
)
SIZE = 3325


def _check(
    rule: RuleId,
    threshold: Threshold,
    *,
    severity: Severity = Severity.ERROR,
    baseline: Baseline | None = None,
    cache: CacheComparison | None = None,
) -> BudgetReport:
    settings = {rule: RuleSettings(rule, threshold, severity, True)}
    return evaluate_budget(analyze(IMAGE), settings, baseline=baseline, cache=cache)


def _one(
    rule: RuleId,
    threshold: Threshold,
    *,
    severity: Severity = Severity.ERROR,
    baseline: Baseline | None = None,
    cache: CacheComparison | None = None,
) -> RuleResult:
    report = _check(rule, threshold, severity=severity, baseline=baseline, cache=cache)
    (result,) = [r for r in report.results if r.id is rule]
    return result


def test_one_spec_per_rule_id_in_report_order() -> None:
    assert [spec.id for spec in RULES] == list(RuleId)
    assert set(SPECS) == set(RuleId)


def test_every_rule_off_when_not_configured() -> None:
    report = evaluate_budget(analyze(IMAGE), {})
    assert [r.id for r in report.results] == list(RuleId)
    assert {(r.outcome, r.note) for r in report.results} == {(Outcome.SKIP, Note.DISABLED)}


@pytest.mark.parametrize(
    ("rule", "passes", "breaks", "measured"),
    [
        (RuleId.MAX_SIZE, SIZE, SIZE - 1, SIZE),
        (RuleId.MAX_LAYER_SIZE, 3000, 2999, 3000),
        (RuleId.MAX_LAYERS, 3, 2, 3),
        (RuleId.MAX_RECLAIMABLE_BYTES, 100, 99, 100),
        (RuleId.MAX_RECLAIMABLE_RATIO, 100 / SIZE, 99 / SIZE, 100 / SIZE),
    ],
)
def test_a_maximum_breaks_only_above_it(
    rule: RuleId, passes: Threshold, breaks: Threshold, measured: float
) -> None:
    ok = _one(rule, passes)
    assert ok.outcome is Outcome.PASS and ok.measured == pytest.approx(measured)
    broken = _one(rule, breaks)
    assert broken.outcome is Outcome.FAIL
    assert _one(rule, breaks, severity=Severity.WARNING).outcome is Outcome.WARN


def test_the_largest_layer_is_named() -> None:
    result = _one(RuleId.MAX_LAYER_SIZE, 10)
    assert result.layer_index == 0 and result.detail is Detail.LARGEST_LAYER


def test_unknown_compressed_sizes_skip() -> None:
    result = _one(RuleId.MAX_COMPRESSED_SIZE, 1)
    assert (result.outcome, result.note) == (Outcome.SKIP, Note.NO_COMPRESSED_SIZE)


def test_a_minimum_breaks_only_below_it() -> None:
    assert _one(RuleId.MIN_EFFICIENCY, 0.0).outcome is Outcome.PASS
    assert _one(RuleId.MIN_EFFICIENCY, 1.0).outcome is Outcome.FAIL
    previous = BuildRef("app", "1", "sha256:" + "0" * 64, None)
    cache = CacheComparison(previous, 2, 3, 2 / 3)
    met = _one(RuleId.MIN_CACHE_HIT_RATIO, 2 / 3, cache=cache)
    assert met.outcome is Outcome.PASS and met.previous_build == previous
    assert _one(RuleId.MIN_CACHE_HIT_RATIO, 0.9, cache=cache).outcome is Outcome.FAIL
    alone = _one(RuleId.MIN_CACHE_HIT_RATIO, 0.9)
    assert (alone.outcome, alone.note) == (Outcome.SKIP, Note.NO_PREVIOUS_BUILD)


def test_growth_against_a_baseline() -> None:
    base = Baseline("old", "ref", 3000, None, 2)
    grown = _one(RuleId.MAX_GROWTH_BYTES, 324, baseline=base)
    assert (grown.outcome, grown.measured, grown.reference_bytes) == (Outcome.FAIL, 325, 3000)
    ratio = _one(RuleId.MAX_GROWTH_RATIO, 0.2, baseline=base)
    assert ratio.outcome is Outcome.PASS and ratio.measured == pytest.approx(325 / 3000)
    shrunk = _one(RuleId.MAX_GROWTH_BYTES, -1, baseline=replace(base, size_bytes=4000))
    assert (shrunk.outcome, shrunk.measured) == (Outcome.PASS, -675)
    none = _one(RuleId.MAX_GROWTH_BYTES, 0)
    assert (none.outcome, none.note, none.baseline) == (Outcome.SKIP, Note.NO_BASELINE, None)
    empty = _one(RuleId.MAX_GROWTH_RATIO, 0.1, baseline=replace(base, size_bytes=0))
    assert (empty.outcome, empty.note) == (Outcome.SKIP, Note.EMPTY_BASELINE)
    assert empty.baseline is not None and empty.reference_bytes == 0


def test_forbidden_paths_and_required_labels() -> None:
    hit = _one(RuleId.FORBIDDEN_PATHS, ("**/.git/**", "*.pem"))
    assert hit.outcome is Outcome.FAIL and hit.measured == 2
    assert [(h.path, h.layer_index) for h in hit.forbidden] == [
        ("/app/.git/config", 1),
        ("/app/key.pem", 1),
    ]
    assert _one(RuleId.FORBIDDEN_PATHS, ("*.key",)).outcome is Outcome.PASS
    labels = ("org.opencontainers.image.source", "org.opencontainers.image.version")
    missing = _one(RuleId.REQUIRED_LABELS, labels)
    assert missing.outcome is Outcome.FAIL
    assert missing.measured == ("org.opencontainers.image.version",)
    assert _one(RuleId.REQUIRED_LABELS, labels[:1]).outcome is Outcome.PASS
