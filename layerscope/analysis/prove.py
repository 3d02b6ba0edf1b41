"""What ``suggest --prove`` measured: frozen results, and the pure arithmetic on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .suggest.model import SuggestionKind


@dataclass(frozen=True, slots=True)
class SuggestionProof:
    """One suggestion: its estimate, and what its own patch saved when built (``--prove=each``)."""

    id: str
    kind: SuggestionKind
    estimated_saving_bytes: int
    measured_saving_bytes: int | None = None
    """None when it was not built on its own (only with ``--prove=each``)."""
    builds: bool | None = None
    """Whether the Dockerfile with only this suggestion applied built (None: not tried)."""


@dataclass(frozen=True, slots=True)
class DroppedSuggestion:
    """A suggestion taken out of the combined patch because the patched build failed."""

    id: str
    step: str
    """The failing step as the builder printed it."""
    log_tail: tuple[str, ...]
    """The last lines of the failing build's log."""
    reason: str


@dataclass(frozen=True, slots=True)
class CacheRun:
    """One rebuild after the touch: which steps hit the cache, what had to be rebuilt."""

    steps: int
    steps_hit: int
    layers: int
    layers_rebuilt: int
    bytes_rebuilt: int
    seconds: float
    first_miss: str | None
    """The first step that ran instead of hitting the cache (None: everything hit)."""
    ran: tuple[str, ...] = ()
    """Every step that ran, in order."""


@dataclass(frozen=True, slots=True)
class CacheExperiment:
    """A one-line edit to a source file, rebuilt with the original and the patched Dockerfile."""

    touched: str
    """The file appended to, relative to the context."""
    original: CacheRun
    patched: CacheRun


@dataclass(frozen=True, slots=True)
class Proof:
    """The result of building the original and the patched Dockerfile."""

    builder: str
    original_bytes: int
    patched_bytes: int
    estimated_saving_bytes: int
    """Union of the evidence of the size suggestions in the final patch."""
    applied: tuple[str, ...]
    """Suggestions in the final patch, which built."""
    patch: str | None
    """The final patch (it built)."""
    patch_builds: bool
    original_seconds: float
    patched_seconds: float
    suggestions: tuple[SuggestionProof, ...] = ()
    dropped: tuple[DroppedSuggestion, ...] = ()
    cache: CacheExperiment | None = None
    notes: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    """Every image tag the builds made (all removed afterwards)."""

    @property
    def measured_saving_bytes(self) -> int:
        return self.original_bytes - self.patched_bytes


def relative_error(estimate: int, measured: int) -> float | None:
    """|measured - estimate| / estimate (None when nothing was estimated)."""
    if estimate <= 0:
        return None
    return abs(measured - estimate) / estimate


def rebuilt_layers(
    before: Sequence[tuple[str, int]], after: Sequence[tuple[str, int]]
) -> tuple[int, int]:
    """(layers, bytes) of ``after`` that are not the layer at the same place in ``before``: what a
    rebuild made anew and a push would upload (once a layer differs, every later one is new)."""
    count = size = 0
    same = True
    for n, (diff_id, nbytes) in enumerate(after):
        same = same and n < len(before) and before[n][0] == diff_id
        if not same:
            count += 1
            size += nbytes
    return count, size
