"""The size-budget rules as configured: their closed set of ids, severities, threshold kinds,
dive's aliases and defaults, and one rule's settings.

What each rule measures and how its threshold is read is in ``analysis/budget/specs.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

__all__ = [
    "DIVE_DEFAULTS",
    "DIVE_KEYS",
    "RuleId",
    "RuleSettings",
    "Severity",
    "Threshold",
    "ThresholdKind",
    "default_settings",
]


class RuleId(StrEnum):
    """Every budget rule, in report order (the keys of ``budget.specs.SPECS``)."""

    MAX_SIZE = "max_size"
    MAX_COMPRESSED_SIZE = "max_compressed_size"
    MAX_LAYER_SIZE = "max_layer_size"
    MAX_LAYERS = "max_layers"
    MIN_EFFICIENCY = "min_efficiency"
    MAX_WASTED_BYTES = "max_wasted_bytes"
    MAX_USER_WASTED_RATIO = "max_user_wasted_ratio"
    MAX_RECLAIMABLE_BYTES = "max_reclaimable_bytes"
    MAX_RECLAIMABLE_RATIO = "max_reclaimable_ratio"
    MAX_GROWTH_BYTES = "max_growth_bytes"
    MAX_GROWTH_RATIO = "max_growth_ratio"
    MIN_CACHE_HIT_RATIO = "min_cache_hit_ratio"
    FORBIDDEN_PATHS = "forbidden_paths"
    REQUIRED_LABELS = "required_labels"


class Severity(Enum):
    """What a broken rule does: ``error`` fails the check, ``warning`` only warns."""

    ERROR = "error"
    WARNING = "warning"


class ThresholdKind(Enum):
    """The type of a rule's threshold (and of its measured value)."""

    BYTES = "bytes"
    RATIO = "ratio"
    COUNT = "count"
    PATTERNS = "patterns"
    NAMES = "names"


DIVE_KEYS = {
    "lowestEfficiency": RuleId.MIN_EFFICIENCY,
    "highestWastedBytes": RuleId.MAX_WASTED_BYTES,
    "highestUserWastedPercent": RuleId.MAX_USER_WASTED_RATIO,
}
"""dive 0.13.1's rule keys (``.dive-ci`` and its flags) and the layerscope rules they set."""

DIVE_DEFAULTS: dict[RuleId, float | None] = {
    RuleId.MIN_EFFICIENCY: 0.9,
    RuleId.MAX_WASTED_BYTES: None,
    RuleId.MAX_USER_WASTED_RATIO: 0.1,
}
"""dive's defaults (``--lowestEfficiency 0.9 --highestWastedBytes disabled
--highestUserWastedPercent 0.1``); None: disabled."""

Threshold = int | float | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """One rule as configured: threshold, severity and on/off switch."""

    id: RuleId
    threshold: Threshold | None
    severity: Severity = Severity.ERROR
    enabled: bool = False


def default_settings() -> dict[RuleId, RuleSettings]:
    """Every rule with no configuration: dive's three defaults, everything else off."""
    out: dict[RuleId, RuleSettings] = {}
    for rule_id in RuleId:
        threshold = DIVE_DEFAULTS.get(rule_id)
        out[rule_id] = RuleSettings(rule_id, threshold, Severity.ERROR, threshold is not None)
    return out
