"""What a budget check finds: each rule's measurement and verdict (numbers and ids; the words
are render's), and the report of every rule."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from layerscope.analysis.rules import RuleId, Severity, Threshold, ThresholdKind

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
    "RuleResult",
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


class Detail(Enum):
    """What a rule reports beside its measured value (the ``RuleResult`` fields it fills)."""

    LARGEST_LAYER = "largest_layer"
    """``layer_index``: the largest layer."""
    FORBIDDEN_PATHS = "forbidden_paths"
    """``forbidden``: every path that matched, in the layer that wrote it."""
    BASELINE = "baseline"
    """``baseline`` and ``reference_bytes``: what the growth is measured from."""
    PREVIOUS_BUILD = "previous_build"
    """``previous_build``: the recorded build the cache hits are counted against."""


@dataclass(frozen=True, slots=True)
class BuildRef:
    """A build recorded in the history store (render words it ``previous build REPO:TAG …``)."""

    repository: str
    tag: str | None
    image_id: str
    created: str | None


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the growth rules compare with: another image, a JSON export or a recorded build."""

    label: str
    """The reference or the file as given; for a recorded build its repository (``build``)."""
    source: str
    """``ref``, ``json`` or ``store``."""
    size_bytes: int
    compressed_size_bytes: int | None
    layer_count: int
    build: BuildRef | None = None
    """The recorded build (source ``store``)."""


@dataclass(frozen=True, slots=True)
class CacheComparison:
    """This build against the previous recorded build of the same repository."""

    previous: BuildRef
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

    id: RuleId
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
    previous_build: BuildRef | None = None
    suggestions: tuple[Suggestion, ...] = ()
    detail: Detail | None = None
    """Which of the fields above the rule fills (from its spec)."""


@dataclass(frozen=True, slots=True)
class BudgetInputs:
    """What the rules measure: the analysed image, and what growth and cache hits compare with."""

    analysis: Analysis
    baseline: Baseline | None = None
    cache: CacheComparison | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one rule measured. The verdict follows: ``skipped``, else ``broken`` when the
    measurement decides it, else the value compared strictly with the threshold."""

    value: int | float | tuple[str, ...] | None = None
    broken: bool | None = None
    note: Note | None = None
    skipped: bool = False
    layer_index: int | None = None
    forbidden: tuple[ForbiddenHit, ...] = ()
    baseline: Baseline | None = None
    reference_bytes: int | None = None
    previous_build: BuildRef | None = None

    @classmethod
    def skip(cls, note: Note) -> Measurement:
        """Cannot be measured (the rule is skipped, ``note`` says why)."""
        return cls(note=note, skipped=True)


@dataclass(frozen=True, slots=True)
class BudgetReport:
    """Every rule's verdict, in the order of ``rules.RuleId``."""

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
