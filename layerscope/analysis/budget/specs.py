"""The budget rules, one spec each: what the rule measures, its threshold's kind and direction,
and the suggestions that help when it breaks. The words are render's (``render/check/words.py``,
keyed by the same ``RuleId``).

A new rule is a ``RuleId`` member, one ``RuleSpec`` here (its measurement a function of
``BudgetInputs`` and the threshold), one ``RuleWords`` entry, and their tests.

Comparisons are strict, as in dive 0.13.1: a maximum fails only when the measured value is above
it, a minimum only when the measured value is below it. dive's user-wasted ratio is NaN when the
image has no user bytes and nothing wasted (the rule then passes, as in dive) and +Inf when it has
wasted bytes but no user bytes (the rule then fails, as in dive).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from layerscope.analysis.budget.paths import forbidden_hits
from layerscope.analysis.budget.results import BudgetInputs, Detail, Measurement, Note
from layerscope.analysis.rules import RuleId, Threshold, ThresholdKind
from layerscope.analysis.suggest.model import SuggestionKind as S

__all__ = ["RULES", "SPECS", "Measure", "RuleSpec"]

Measure = Callable[[BudgetInputs, Threshold], Measurement]
"""A rule's measurement of the inputs (the threshold: for rules whose measurement uses it)."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One budget rule: its measurement and how its threshold reads."""

    id: RuleId
    kind: ThresholdKind
    maximum: bool
    """True: breaks when the measured value is above the threshold; False: below it."""
    measure: Measure
    helps: tuple[S, ...]
    """The suggestion kinds that help when the rule breaks."""
    detail: Detail | None = None
    bounded: bool = False
    """A ratio threshold that must lie within 0..1."""
    signed: bool = False
    """The threshold and the measured value may be negative (growth: the image shrank)."""


def _total(inputs: BudgetInputs, _: Threshold) -> Measurement:
    return Measurement(inputs.analysis.image.size_bytes)


def _compressed(inputs: BudgetInputs, _: Threshold) -> Measurement:
    size = inputs.analysis.image.compressed_size_bytes
    return Measurement.skip(Note.NO_COMPRESSED_SIZE) if size is None else Measurement(size)


def _largest_layer(inputs: BudgetInputs, _: Threshold) -> Measurement:
    layers = inputs.analysis.image.layers
    if not layers:
        return Measurement(0)
    largest = max(layers, key=lambda layer: (layer.size_bytes, -layer.index))
    return Measurement(largest.size_bytes, layer_index=largest.index)


def _layers(inputs: BudgetInputs, _: Threshold) -> Measurement:
    return Measurement(len(inputs.analysis.image.layers))


def _efficiency(inputs: BudgetInputs, _: Threshold) -> Measurement:
    return Measurement(inputs.analysis.dive.efficiency_ratio)


def _wasted(inputs: BudgetInputs, _: Threshold) -> Measurement:
    return Measurement(inputs.analysis.dive.wasted_bytes)


def _user_wasted(inputs: BudgetInputs, threshold: Threshold) -> Measurement:
    dive = inputs.analysis.dive
    if dive.user_wasted_ratio is not None:
        return Measurement(dive.user_wasted_ratio)
    infinite = dive.wasted_bytes > 0 and dive.user_size_bytes == 0
    # dive compares threshold < NaN (false: pass) and threshold < +Inf (true unless the
    # threshold is NaN, which dive's range check lets through)
    broken = infinite and not math.isnan(float(threshold))  # type: ignore[arg-type]
    return Measurement(broken=broken, note=Note.INFINITE if infinite else Note.UNDEFINED)


def _reclaimable(inputs: BudgetInputs, _: Threshold) -> Measurement:
    return Measurement(inputs.analysis.waste.reclaimable_bytes)


def _reclaimable_ratio(inputs: BudgetInputs, _: Threshold) -> Measurement:
    ratio = inputs.analysis.waste.reclaimable_ratio
    return Measurement(broken=False, note=Note.UNDEFINED) if ratio is None else Measurement(ratio)


def _growth(inputs: BudgetInputs, _: Threshold) -> Measurement:
    baseline = inputs.baseline
    if baseline is None:
        return Measurement.skip(Note.NO_BASELINE)
    growth = inputs.analysis.image.size_bytes - baseline.size_bytes
    return Measurement(growth, baseline=baseline, reference_bytes=baseline.size_bytes)


def _growth_ratio(inputs: BudgetInputs, _: Threshold) -> Measurement:
    baseline = inputs.baseline
    if baseline is None:
        return Measurement.skip(Note.NO_BASELINE)
    base = baseline.size_bytes
    if base == 0:  # skipped, but the report still names the baseline
        return Measurement(note=Note.EMPTY_BASELINE, skipped=True, baseline=baseline,
                           reference_bytes=base)  # fmt: skip
    growth = inputs.analysis.image.size_bytes - base
    return Measurement(growth / base, baseline=baseline, reference_bytes=base)


def _cache_hits(inputs: BudgetInputs, _: Threshold) -> Measurement:
    cache = inputs.cache
    if cache is None or cache.hit_ratio is None:
        return Measurement.skip(Note.NO_PREVIOUS_BUILD)
    return Measurement(cache.hit_ratio, previous_build=cache.previous)


def _forbidden(inputs: BudgetInputs, threshold: Threshold) -> Measurement:
    assert isinstance(threshold, tuple)
    hits = forbidden_hits(inputs.analysis, threshold)
    return Measurement(len(hits), broken=bool(hits), forbidden=hits)


def _labels(inputs: BudgetInputs, threshold: Threshold) -> Measurement:
    assert isinstance(threshold, tuple)
    present = {name for name, _ in inputs.analysis.image.config.labels}
    missing = tuple(name for name in threshold if name not in present)
    return Measurement(missing, broken=bool(missing))


_SIZE = (S.MULTI_STAGE, S.NO_INSTALL_RECOMMENDS, S.DOCKERIGNORE, S.SAME_LAYER_CLEANUP, S.MERGE_RUN)
_BIG = (*_SIZE, S.DUPLICATE_FILES, S.LARGE_MODEL_FILES)
_WASTE = (S.MERGE_RUN, S.SAME_LAYER_CLEANUP, S.COPY_CHMOD, S.DUPLICATE_FILES)
_B, _R, _C = ThresholdKind.BYTES, ThresholdKind.RATIO, ThresholdKind.COUNT
_LAYER_HELP = (S.SAME_LAYER_CLEANUP, S.NO_INSTALL_RECOMMENDS, S.LARGE_MODEL_FILES)
_CACHE_HELP = (S.REORDER_FOR_CACHE, S.PIN_BASE, S.NON_REPRODUCIBLE)

RULES: tuple[RuleSpec, ...] = (
    RuleSpec(RuleId.MAX_SIZE, _B, True, _total, _BIG),
    RuleSpec(RuleId.MAX_COMPRESSED_SIZE, _B, True, _compressed, _BIG),
    RuleSpec(RuleId.MAX_LAYER_SIZE, _B, True, _largest_layer, _LAYER_HELP, Detail.LARGEST_LAYER),
    RuleSpec(RuleId.MAX_LAYERS, _C, True, _layers, (S.MERGE_RUN, S.MULTI_STAGE)),
    RuleSpec(RuleId.MIN_EFFICIENCY, _R, False, _efficiency, _WASTE, bounded=True),
    RuleSpec(RuleId.MAX_WASTED_BYTES, _B, True, _wasted, _WASTE),
    RuleSpec(RuleId.MAX_USER_WASTED_RATIO, _R, True, _user_wasted, _WASTE, bounded=True),
    RuleSpec(RuleId.MAX_RECLAIMABLE_BYTES, _B, True, _reclaimable, _WASTE),
    RuleSpec(RuleId.MAX_RECLAIMABLE_RATIO, _R, True, _reclaimable_ratio, _WASTE, bounded=True),
    RuleSpec(RuleId.MAX_GROWTH_BYTES, _B, True, _growth, _BIG, Detail.BASELINE, signed=True),
    RuleSpec(RuleId.MAX_GROWTH_RATIO, _R, True, _growth_ratio, _BIG, Detail.BASELINE, signed=True),
    RuleSpec(
        RuleId.MIN_CACHE_HIT_RATIO,
        _R,
        False,
        _cache_hits,
        _CACHE_HELP,
        Detail.PREVIOUS_BUILD,
        bounded=True,
    ),  # fmt: skip
    RuleSpec(
        RuleId.FORBIDDEN_PATHS,
        ThresholdKind.PATTERNS,
        True,
        _forbidden,
        (S.DOCKERIGNORE, S.MULTI_STAGE),
        Detail.FORBIDDEN_PATHS,
    ),  # fmt: skip
    RuleSpec(RuleId.REQUIRED_LABELS, ThresholdKind.NAMES, True, _labels, ()),
)
"""Every rule, in ``RuleId`` order (the order of the report)."""

SPECS: dict[RuleId, RuleSpec] = {spec.id: spec for spec in RULES}
