"""Evaluate an image against a size budget: one verdict per rule, with measured value and threshold.

Comparisons are strict, as in dive 0.13.1: a maximum fails only when the measured value is above
it, a minimum only when the measured value is below it. dive's user-wasted ratio is NaN when the
image has no user bytes and nothing wasted (the rule then passes, as in dive) and +Inf when it has
wasted bytes but no user bytes (the rule then fails, as in dive).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING

from layerscope.analysis.rules import (
    RULES,
    SPECS,
    RuleSettings,
    Severity,
    Threshold,
    ThresholdKind,
)
from layerscope.model import EntryKind

if TYPE_CHECKING:
    from layerscope.analysis import Analysis
    from layerscope.analysis.suggest.model import Suggestion

__all__ = [
    "Baseline",
    "BudgetReport",
    "CacheComparison",
    "ForbiddenHit",
    "Note",
    "Outcome",
    "RuleResult",
    "SUGGESTION_KINDS",
    "evaluate_budget",
    "glob_regex",
]


class Outcome(Enum):
    """A rule's verdict."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class Note(Enum):
    """Why a rule was skipped, or what is special about its measured value."""

    DISABLED = "disabled"
    NO_COMPRESSED_SIZE = "no_compressed_size"
    NO_BASELINE = "no_baseline"
    EMPTY_BASELINE = "empty_baseline"
    NO_PREVIOUS_BUILD = "no_previous_build"
    UNDEFINED = "undefined"
    """dive's NaN: the measured ratio is 0/0."""
    INFINITE = "infinite"
    """dive's +Inf: the measured ratio is x/0 with x > 0."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the growth rules compare with: another image, a JSON export or a recorded build."""

    label: str
    """What it is, for a person: the reference, the file, or ``REPO (recorded …)``."""
    source: str
    """``ref``, ``json`` or ``store``."""
    size_bytes: int
    compressed_size_bytes: int | None
    layer_count: int


@dataclass(frozen=True, slots=True)
class CacheComparison:
    """This build against the previous recorded build of the same repository."""

    previous_label: str
    hits: int
    layers: int
    hit_ratio: float | None


@dataclass(frozen=True, slots=True)
class ForbiddenHit:
    """A path that matches a forbidden pattern, in the layer that wrote it."""

    path: str
    pattern: str
    layer_index: int
    visible: bool
    """Still in the final file system (False: a later layer hid it; the layer still ships it)."""


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's verdict."""

    id: str
    kind: ThresholdKind
    maximum: bool
    outcome: Outcome
    severity: Severity
    enabled: bool
    threshold: Threshold | None
    measured: int | float | tuple[str, ...] | None
    """Bytes, a ratio, a count, or the names missing; None when it cannot be measured."""
    note: Note | None = None
    layer_index: int | None = None
    """max_layer_size: the largest layer."""
    forbidden: tuple[ForbiddenHit, ...] = ()
    baseline: Baseline | None = None
    reference_bytes: int | None = None
    """Growth rules: the baseline's size the growth is measured from."""
    previous_label: str | None = None
    suggestions: tuple[Suggestion, ...] = ()


@dataclass(frozen=True, slots=True)
class BudgetReport:
    """Every rule's verdict, in the order of ``rules.RULES``."""

    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        """No rule failed (warnings allowed)."""
        return not any(r.outcome is Outcome.FAIL for r in self.results)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def suggestions(self) -> tuple[Suggestion, ...]:
        """The suggestions matched to failed or warned rules, each once, in rule order."""
        seen: dict[str, Suggestion] = {}
        for result in self.results:
            for s in result.suggestions:
                seen.setdefault(s.id, s)
        return tuple(seen.values())


_SIZE = ("multi_stage", "no_install_recommends", "dockerignore", "same_layer_cleanup", "merge_run")
_WASTE = ("merge_run", "same_layer_cleanup", "copy_chmod", "duplicate_files")
SUGGESTION_KINDS: dict[str, tuple[str, ...]] = {
    "max_size": (*_SIZE, "duplicate_files", "large_model_files"),
    "max_compressed_size": (*_SIZE, "duplicate_files", "large_model_files"),
    "max_layer_size": ("same_layer_cleanup", "no_install_recommends", "large_model_files"),
    "max_layers": ("merge_run", "multi_stage"),
    "min_efficiency": _WASTE,
    "max_wasted_bytes": _WASTE,
    "max_user_wasted_ratio": _WASTE,
    "max_reclaimable_bytes": _WASTE,
    "max_reclaimable_ratio": _WASTE,
    "max_growth_bytes": (*_SIZE, "duplicate_files", "large_model_files"),
    "max_growth_ratio": (*_SIZE, "duplicate_files", "large_model_files"),
    "min_cache_hit_ratio": ("reorder_for_cache", "pin_base", "non_reproducible"),
    "forbidden_paths": ("dockerignore", "multi_stage"),
    "required_labels": (),
}
"""Suggestion kinds (``SuggestionKind`` values) that help with each rule."""


def evaluate_budget(
    analysis: Analysis,
    settings: Mapping[str, RuleSettings],
    *,
    baseline: Baseline | None = None,
    cache: CacheComparison | None = None,
    suggestions: Sequence[Suggestion] = (),
) -> BudgetReport:
    """Every rule of ``rules.RULES`` applied to ``analysis`` (a rule missing from ``settings`` is
    off). Failed and warned rules carry the ``suggestions`` of the kinds that help with them."""
    results: list[RuleResult] = []
    for spec in RULES:
        rule = settings.get(spec.id, RuleSettings(spec.id, None))
        result = _evaluate(analysis, rule, baseline, cache)
        if result.outcome in (Outcome.FAIL, Outcome.WARN):
            kinds = SUGGESTION_KINDS[spec.id]
            matched = tuple(s for s in suggestions if s.kind.value in kinds)
            result = _replace(result, suggestions=matched)
        results.append(result)
    return BudgetReport(tuple(results))


def _replace(result: RuleResult, **changes: object) -> RuleResult:
    from dataclasses import replace

    return replace(result, **changes)  # type: ignore[arg-type]


def _evaluate(
    analysis: Analysis,
    rule: RuleSettings,
    baseline: Baseline | None,
    cache: CacheComparison | None,
) -> RuleResult:
    spec = SPECS[rule.id]
    base = RuleResult(
        id=rule.id,
        kind=spec.kind,
        maximum=spec.maximum,
        outcome=Outcome.SKIP,
        severity=rule.severity,
        enabled=rule.enabled,
        threshold=rule.threshold,
        measured=None,
    )
    if not rule.enabled or rule.threshold is None:
        return _replace(base, note=Note.DISABLED)
    broken = _replace(base, outcome=_broken(rule.severity))
    passed = _replace(base, outcome=Outcome.PASS)
    image = analysis.image
    threshold = rule.threshold
    measured: int | float | None
    if rule.id == "max_size":
        measured = sum(layer.size_bytes for layer in image.layers)
    elif rule.id == "max_compressed_size":
        sizes = [layer.compressed_size_bytes for layer in image.layers]
        if any(size is None for size in sizes):
            return _replace(base, note=Note.NO_COMPRESSED_SIZE)
        measured = sum(size for size in sizes if size is not None)
    elif rule.id == "max_layer_size":
        if not image.layers:
            measured = 0
        else:
            largest = max(image.layers, key=lambda layer: (layer.size_bytes, -layer.index))
            measured = largest.size_bytes
            broken = _replace(broken, layer_index=largest.index)
            passed = _replace(passed, layer_index=largest.index)
    elif rule.id == "max_layers":
        measured = len(image.layers)
    elif rule.id == "min_efficiency":
        measured = analysis.dive.efficiency_ratio
    elif rule.id == "max_wasted_bytes":
        measured = analysis.dive.wasted_bytes
    elif rule.id == "max_user_wasted_ratio":
        measured = analysis.dive.user_wasted_ratio
        if measured is None:
            dive = analysis.dive
            infinite = dive.wasted_bytes > 0 and dive.user_size_bytes == 0
            note = Note.INFINITE if infinite else Note.UNDEFINED
            # dive compares threshold < NaN (false: pass) and threshold < +Inf (true unless the
            # threshold is NaN, which dive's range check lets through)
            fails = infinite and not math.isnan(float(threshold))  # type: ignore[arg-type]
            return _replace(broken if fails else passed, note=note)
    elif rule.id == "max_reclaimable_bytes":
        measured = analysis.waste.reclaimable_bytes
    elif rule.id == "max_reclaimable_ratio":
        measured = analysis.waste.reclaimable_ratio
        if measured is None:
            return _replace(passed, note=Note.UNDEFINED)
    elif rule.id in ("max_growth_bytes", "max_growth_ratio"):
        return _growth(analysis, rule, base, baseline)
    elif rule.id == "min_cache_hit_ratio":
        if cache is None or cache.hit_ratio is None:
            return _replace(base, note=Note.NO_PREVIOUS_BUILD)
        measured = cache.hit_ratio
        broken = _replace(broken, previous_label=cache.previous_label)
        passed = _replace(passed, previous_label=cache.previous_label)
    elif rule.id == "forbidden_paths":
        assert isinstance(threshold, tuple)
        hits = forbidden_hits(analysis, threshold)
        result = broken if hits else passed
        return _replace(result, measured=len(hits), forbidden=hits)
    elif rule.id == "required_labels":
        assert isinstance(threshold, tuple)
        present = {name for name, _ in image.config.labels}
        missing = tuple(name for name in threshold if name not in present)
        return _replace(broken if missing else passed, measured=missing)
    else:  # pragma: no cover - RULES and this function list the same ids
        raise ValueError(rule.id)
    assert isinstance(threshold, int | float)
    fails = measured > threshold if spec.maximum else threshold > measured
    return _replace(broken if fails else passed, measured=measured)


def _broken(severity: Severity) -> Outcome:
    return Outcome.FAIL if severity is Severity.ERROR else Outcome.WARN


def _growth(
    analysis: Analysis, rule: RuleSettings, base: RuleResult, baseline: Baseline | None
) -> RuleResult:
    if baseline is None:
        return _replace(base, note=Note.NO_BASELINE)
    size = sum(layer.size_bytes for layer in analysis.image.layers)
    growth = size - baseline.size_bytes
    base = _replace(base, baseline=baseline, reference_bytes=baseline.size_bytes)
    measured: int | float
    if rule.id == "max_growth_bytes":
        measured = growth
    elif baseline.size_bytes == 0:
        return _replace(base, note=Note.EMPTY_BASELINE)
    else:
        measured = growth / baseline.size_bytes
    assert isinstance(rule.threshold, int | float)
    outcome = _broken(rule.severity) if measured > rule.threshold else Outcome.PASS
    return _replace(base, outcome=outcome, measured=measured)


def forbidden_hits(analysis: Analysis, patterns: Sequence[str]) -> tuple[ForbiddenHit, ...]:
    """Paths any layer writes that match one of ``patterns`` (a path written by several layers
    is listed for each; whiteouts and opaque markers are not paths written)."""
    regexes = [(pattern, glob_regex(pattern)) for pattern in patterns]
    final = analysis.filesystem.final
    hits: list[ForbiddenHit] = []
    for layer in analysis.image.layers:
        for entry in layer.entries:
            if entry.kind in (EntryKind.WHITEOUT, EntryKind.OPAQUE) or entry.path == "/":
                continue
            for pattern, regex in regexes:
                if regex.fullmatch(entry.path.lstrip("/")):
                    placed = final.get(entry.path)
                    visible = placed is not None and placed.layer_index == layer.index
                    hits.append(ForbiddenHit(entry.path, pattern, layer.index, visible))
                    break
    return tuple(hits)


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regex for a path glob, matched against paths without their leading ``/``.

    ``*`` and ``?`` stay within one path segment, ``[...]`` is a character class, ``**`` matches
    any number of segments (``**/`` none too), and a pattern without ``/`` matches at any depth
    (``*.pem`` = ``**/*.pem``), as in ``.gitignore``.
    """
    body = pattern.strip().lstrip("/") if pattern.strip().startswith("/") else pattern.strip()
    if "/" not in body.rstrip("/"):
        body = "**/" + body
    body = body.rstrip("/") or "**"
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:[^/]*/)*")  # "a/**/b" matches "a/b" too
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[":
            end = body.find("]", i + 2)
            if end == -1:
                out.append(re.escape("["))
                i += 1
            else:
                inner = body[i + 1 : end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)
