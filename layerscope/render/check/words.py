"""Wording shared by every `check` output: values with units, and one sentence per verdict.

``RULE_WORDS`` holds each rule's words, keyed by the ``RuleId`` of its spec
(``analysis/budget/specs.py``): a new rule adds one entry here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from layerscope.analysis.budget import (
    Baseline,
    BudgetReport,
    BuildRef,
    Note,
    Outcome,
    RuleResult,
)
from layerscope.analysis.rules import RuleId, ThresholdKind
from layerscope.analysis.suggest.model import LineSpan
from layerscope.render.units import size

__all__ = [
    "CheckSubject",
    "baseline_label",
    "build_label",
    "RULE_WORDS",
    "RuleWords",
    "STATUS",
    "sentence",
    "show_measured",
    "show_threshold",
]

STATUS = {Outcome.PASS: "PASS", Outcome.WARN: "WARN", Outcome.FAIL: "FAIL", Outcome.SKIP: "SKIP"}
SHOWN_PATHS = 10


@dataclass(frozen=True, slots=True)
class CheckSubject:
    """What was checked, for the report headers."""

    ref: str
    image_id: str
    config: str
    """Where the budget came from, for a person."""
    report: BudgetReport
    dockerfile: str | None = None
    """The Dockerfile path relative to the current directory (for SARIF and annotation
    locations: GitHub code scanning wants repository-relative paths)."""


def rule_span(result: RuleResult) -> LineSpan:
    """Where in the Dockerfile a rule result points: its first suggestion's lines, else line 1
    (the image the Dockerfile builds)."""
    spans = [span for s in result.suggestions for span in s.lines]
    return spans[0] if spans else LineSpan(1, 1)


def _ratio(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return f"{value * 100:.2f} %"


def _value(kind: ThresholdKind, value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "none"
    if kind is ThresholdKind.BYTES and isinstance(value, int):
        return size(value)
    if kind is ThresholdKind.RATIO and isinstance(value, int | float):
        return _ratio(float(value))
    return str(value)


def show_threshold(result: RuleResult) -> str:
    """The threshold with its unit, or ``-`` when the rule is off."""
    if result.threshold is None or not result.enabled:
        return "-"
    return _value(result.kind, result.threshold)


def show_measured(result: RuleResult) -> str:
    """The measured value with its unit, or why there is none."""
    if result.note is Note.UNDEFINED:
        return "undefined"
    if result.note is Note.INFINITE:
        return "infinite"
    if result.measured is None:
        return "-"
    shown = RULE_WORDS[result.id].measured
    return shown(result) if shown is not None else _value(result.kind, result.measured)


_SKIPS = {
    Note.DISABLED: "rule disabled",
    Note.NO_COMPRESSED_SIZE: "the stored (compressed) size of some layer is unknown",
    Note.NO_BASELINE: "no baseline: give --baseline REF|FILE.json or --baseline last",
    Note.EMPTY_BASELINE: "the baseline has 0 bytes, so growth in percent is undefined",
    Note.NO_PREVIOUS_BUILD: "no previous build of this repository is recorded",
}


def sentence(result: RuleResult) -> str:
    """One sentence a person understands, for any verdict."""
    if result.outcome is Outcome.SKIP:
        return _SKIPS.get(result.note or Note.DISABLED, "skipped") + "."
    words = RULE_WORDS[result.id]
    if result.note is not None and result.note in words.notes:
        return words.notes[result.note]
    if words.verdict is not None:
        return words.verdict(result)
    ok = result.outcome is Outcome.PASS
    m, t = show_measured(result), show_threshold(result)
    what = words.summary
    if result.baseline is not None:
        what += f" ({baseline_label(result.baseline)}, {size(result.baseline.size_bytes)})"
    if result.previous_build is not None:
        what += f" ({build_label(result.previous_build)})"
    if result.layer_index is not None:
        what += f" (layer {result.layer_index})"
    if result.maximum:
        relation = "is within" if ok else "is above"
        limit = "the maximum"
    else:
        relation = "meets" if ok else "is below"
        limit = "the minimum"
    return f"{what[0].upper()}{what[1:]} is {m}, which {relation} {limit} of {t}."


def build_label(build: BuildRef) -> str:
    """``previous build REPO:TAG sha256:0123456789ab, created …``."""
    name = build.repository + (f":{build.tag}" if build.tag else "")
    when = f", created {build.created}" if build.created else ""
    return f"previous build {name} {build.image_id[:19]}{when}"


def baseline_label(baseline: Baseline) -> str:
    """What the growth is measured from: the reference, the file, or the recorded build."""
    return baseline.label if baseline.build is None else build_label(baseline.build)


def _forbidden(result: RuleResult) -> str:
    if result.outcome is Outcome.PASS:
        return f"No file matches the forbidden patterns ({show_threshold(result)})."
    layers: dict[str, list[int]] = {}
    for hit in result.forbidden:
        layers.setdefault(hit.path, []).append(hit.layer_index)
    shown = ", ".join(
        f"{path} (layer{'s' if len(idx) > 1 else ''} {', '.join(map(str, idx))})"
        for path, idx in list(layers.items())[:SHOWN_PATHS]
    )
    more = f" and {len(layers) - SHOWN_PATHS} more" if len(layers) > SHOWN_PATHS else ""
    count = len(layers)
    paths = f"{count} forbidden path{'s' if count != 1 else ''}"
    return f"{paths} ship in the image: {shown}{more}."


def _labels(result: RuleResult) -> str:
    if result.outcome is Outcome.PASS:
        return f"Every required label is set ({show_threshold(result)})."
    missing = result.measured if isinstance(result.measured, tuple) else ()
    return f"Missing required label{'s' if len(missing) != 1 else ''}: {', '.join(missing)}."


def _paths_count(result: RuleResult) -> str:
    return f"{result.measured} path{'s' if result.measured != 1 else ''}"


def _missing_count(result: RuleResult) -> str:
    return f"{len(result.measured)} missing" if isinstance(result.measured, tuple) else "-"


def _grown_bytes(result: RuleResult) -> str:
    if not isinstance(result.measured, int):
        return _value(result.kind, result.measured)
    return ("+" if result.measured >= 0 else "-") + size(abs(result.measured))


def _grown_ratio(result: RuleResult) -> str:
    if not isinstance(result.measured, float):
        return _value(result.kind, result.measured)
    return ("+" if result.measured >= 0 else "") + _ratio(result.measured)


@dataclass(frozen=True, slots=True)
class RuleWords:
    """How every `check` format words one rule."""

    summary: str
    """What the rule measures (the subject of its sentence; SARIF's rule description)."""
    measured: Callable[[RuleResult], str] | None = None
    """The measured value, when the threshold kind's unit does not say it."""
    verdict: Callable[[RuleResult], str] | None = None
    """The whole sentence, for rules that are not a number against a limit."""
    notes: Mapping[Note, str] = field(default_factory=dict)
    """The sentence for a special measured value (dive's NaN and +Inf …)."""


_UNDEFINED_RECLAIMABLE = "The image has 0 bytes, so nothing is reclaimable."
RULE_WORDS: dict[RuleId, RuleWords] = {
    RuleId.MAX_SIZE: RuleWords("total uncompressed image size"),
    RuleId.MAX_COMPRESSED_SIZE: RuleWords("total stored (compressed) size"),
    RuleId.MAX_LAYER_SIZE: RuleWords("largest single layer"),
    RuleId.MAX_LAYERS: RuleWords("number of layers"),
    RuleId.MIN_EFFICIENCY: RuleWords("dive's image efficiency score"),
    RuleId.MAX_WASTED_BYTES: RuleWords("dive's wasted bytes"),
    RuleId.MAX_USER_WASTED_RATIO: RuleWords(
        "dive's wasted bytes / user layer bytes",
        notes={
            Note.UNDEFINED: "No user layer bytes and nothing wasted: dive's ratio is NaN, "
            "which passes.",
            Note.INFINITE: "Wasted bytes but no user layer bytes: dive's ratio is infinite, "
            "above the maximum.",
        },
    ),
    RuleId.MAX_RECLAIMABLE_BYTES: RuleWords("bytes hidden by later layers"),
    RuleId.MAX_RECLAIMABLE_RATIO: RuleWords(
        "reclaimable bytes / image size", notes={Note.UNDEFINED: _UNDEFINED_RECLAIMABLE}
    ),
    RuleId.MAX_GROWTH_BYTES: RuleWords("size growth versus the baseline", _grown_bytes),
    RuleId.MAX_GROWTH_RATIO: RuleWords("relative growth versus the baseline", _grown_ratio),
    RuleId.MIN_CACHE_HIT_RATIO: RuleWords("layers reused from the previous build"),
    RuleId.FORBIDDEN_PATHS: RuleWords("paths that must not ship", _paths_count, _forbidden),
    RuleId.REQUIRED_LABELS: RuleWords("labels the image must carry", _missing_count, _labels),
}


def tally(report: BudgetReport) -> str:
    """dive's summary line: ``Result:PASS [Total:3] [Passed:2] [Failed:0] [Warn:0] [Skipped:1]``."""
    status = "PASS" if report.passed else "FAIL"
    return (
        f"Result:{status} [Total:{len(report.results)}] [Passed:{report.count(Outcome.PASS)}] "
        f"[Failed:{report.count(Outcome.FAIL)}] [Warn:{report.count(Outcome.WARN)}] "
        f"[Skipped:{report.count(Outcome.SKIP)}]"
    )


__all__ += ["tally", "SHOWN_PATHS"]
