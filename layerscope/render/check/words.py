"""Wording shared by every `check` output: values with units, and one sentence per verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass

from layerscope.analysis.budget import BudgetReport, Note, Outcome, RuleResult
from layerscope.analysis.rules import SPECS, ThresholdKind
from layerscope.analysis.suggest.model import LineSpan
from layerscope.render.units import size

__all__ = ["CheckSubject", "STATUS", "sentence", "show_measured", "show_threshold"]

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
    if result.id == "forbidden_paths":
        return f"{result.measured} path{'s' if result.measured != 1 else ''}"
    if result.id == "required_labels":
        return f"{len(result.measured)} missing" if isinstance(result.measured, tuple) else "-"
    if result.id == "max_growth_bytes" and isinstance(result.measured, int):
        return ("+" if result.measured >= 0 else "-") + size(abs(result.measured))
    if result.id == "max_growth_ratio" and isinstance(result.measured, float):
        return ("+" if result.measured >= 0 else "") + _ratio(result.measured)
    return _value(result.kind, result.measured)


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
    ok = result.outcome is Outcome.PASS
    m, t = show_measured(result), show_threshold(result)
    rid = result.id
    if rid == "forbidden_paths":
        if ok:
            return f"No file matches the forbidden patterns ({t})."
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
    if rid == "required_labels":
        if ok:
            return f"Every required label is set ({t})."
        missing = result.measured if isinstance(result.measured, tuple) else ()
        return f"Missing required label{'s' if len(missing) != 1 else ''}: {', '.join(missing)}."
    if rid == "max_user_wasted_ratio" and result.note is Note.UNDEFINED:
        return "No user layer bytes and nothing wasted: dive's ratio is NaN, which passes."
    if rid == "max_user_wasted_ratio" and result.note is Note.INFINITE:
        return "Wasted bytes but no user layer bytes: dive's ratio is infinite, above the maximum."
    if rid == "max_reclaimable_ratio" and result.note is Note.UNDEFINED:
        return "The image has 0 bytes, so nothing is reclaimable."
    what = SPECS[rid].summary
    if rid in ("max_growth_bytes", "max_growth_ratio") and result.baseline is not None:
        what += f" ({result.baseline.label}, {size(result.baseline.size_bytes)})"
    if rid == "min_cache_hit_ratio" and result.previous_label:
        what += f" ({result.previous_label})"
    if rid == "max_layer_size" and result.layer_index is not None:
        what += f" (layer {result.layer_index})"
    if SPECS[rid].maximum:
        relation = "is within" if ok else "is above"
        limit = "the maximum"
    else:
        relation = "meets" if ok else "is below"
        limit = "the minimum"
    return f"{what[0].upper()}{what[1:]} is {m}, which {relation} {limit} of {t}."


def tally(report: BudgetReport) -> str:
    """dive's summary line: ``Result:PASS [Total:3] [Passed:2] [Failed:0] [Warn:0] [Skipped:1]``."""
    status = "PASS" if report.passed else "FAIL"
    return (
        f"Result:{status} [Total:{len(report.results)}] [Passed:{report.count(Outcome.PASS)}] "
        f"[Failed:{report.count(Outcome.FAIL)}] [Warn:{report.count(Outcome.WARN)}] "
        f"[Skipped:{report.count(Outcome.SKIP)}]"
    )


__all__ += ["tally", "SHOWN_PATHS"]
