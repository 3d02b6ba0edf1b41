"""The size-budget rules: their names, kinds, dive aliases and defaults, and the rule settings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "DIVE_DEFAULTS",
    "DIVE_KEYS",
    "RULES",
    "RuleSettings",
    "RuleSpec",
    "Severity",
    "ThresholdKind",
    "default_settings",
]


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


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule layerscope knows: its id, threshold kind and whether the threshold is a maximum."""

    id: str
    kind: ThresholdKind
    maximum: bool
    """True: fails when the measured value is above the threshold; False: below it."""
    summary: str


RULES: tuple[RuleSpec, ...] = (
    RuleSpec("max_size", ThresholdKind.BYTES, True, "total uncompressed image size"),
    RuleSpec("max_compressed_size", ThresholdKind.BYTES, True, "total stored (compressed) size"),
    RuleSpec("max_layer_size", ThresholdKind.BYTES, True, "largest single layer"),
    RuleSpec("max_layers", ThresholdKind.COUNT, True, "number of layers"),
    RuleSpec("min_efficiency", ThresholdKind.RATIO, False, "dive's image efficiency score"),
    RuleSpec("max_wasted_bytes", ThresholdKind.BYTES, True, "dive's wasted bytes"),
    RuleSpec(
        "max_user_wasted_ratio", ThresholdKind.RATIO, True, "dive's wasted bytes / user layer bytes"
    ),
    RuleSpec("max_reclaimable_bytes", ThresholdKind.BYTES, True, "bytes hidden by later layers"),
    RuleSpec("max_reclaimable_ratio", ThresholdKind.RATIO, True, "reclaimable bytes / image size"),
    RuleSpec("max_growth_bytes", ThresholdKind.BYTES, True, "size growth versus the baseline"),
    RuleSpec("max_growth_ratio", ThresholdKind.RATIO, True, "relative growth versus the baseline"),
    RuleSpec(
        "min_cache_hit_ratio", ThresholdKind.RATIO, False, "layers reused from the previous build"
    ),
    RuleSpec("forbidden_paths", ThresholdKind.PATTERNS, True, "paths that must not ship"),
    RuleSpec("required_labels", ThresholdKind.NAMES, True, "labels the image must carry"),
)

SPECS = {spec.id: spec for spec in RULES}

DIVE_KEYS = {
    "lowestEfficiency": "min_efficiency",
    "highestWastedBytes": "max_wasted_bytes",
    "highestUserWastedPercent": "max_user_wasted_ratio",
}
"""dive 0.13.1's rule keys (``.dive-ci`` and its flags) and the layerscope rules they set."""

DIVE_DEFAULTS: dict[str, float | None] = {
    "min_efficiency": 0.9,
    "max_wasted_bytes": None,
    "max_user_wasted_ratio": 0.1,
}
"""dive's defaults (``--lowestEfficiency 0.9 --highestWastedBytes disabled
--highestUserWastedPercent 0.1``); None: disabled."""

Threshold = int | float | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """One rule as configured: threshold, severity and on/off switch."""

    id: str
    threshold: Threshold | None
    severity: Severity = Severity.ERROR
    enabled: bool = False


def default_settings() -> dict[str, RuleSettings]:
    """Every rule with no configuration: dive's three defaults, everything else off."""
    out: dict[str, RuleSettings] = {}
    for spec in RULES:
        threshold = DIVE_DEFAULTS.get(spec.id)
        out[spec.id] = RuleSettings(spec.id, threshold, Severity.ERROR, threshold is not None)
    return out
