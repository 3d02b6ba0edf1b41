"""Frozen types of a parsed build log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ..errors import LayerscopeError


class BuildLogError(LayerscopeError):
    """A build log that cannot be read."""


class BuildLogFormat(Enum):
    """The builders and output modes whose logs are understood."""

    CLASSIC = "classic"
    """The legacy Docker builder (``DOCKER_BUILDKIT=0``), plain text or the Engine API's JSON."""
    BUILDKIT_PLAIN = "buildkit-plain"
    """BuildKit ``--progress=plain``."""
    BUILDKIT_RAWJSON = "buildkit-rawjson"
    """BuildKit ``--progress=rawjson``: one JSON SolveStatus per line."""
    BUILDAH = "buildah"
    """``buildah bud`` / ``podman build``."""


@dataclass(frozen=True, slots=True)
class BuildStep:
    """One Dockerfile step as the builder reported it."""

    index: int
    """Position in ``BuildLog.steps``, from 0 (Dockerfile order within each stage)."""
    instruction: str
    """The instruction as printed (BuildKit prints RUN with build args substituted)."""
    step_number: int | None
    """N of ``N/M`` as printed (1-based); its meaning differs per builder."""
    step_total: int | None
    stage: str | None = None
    """BuildKit's stage label (``builder``, ``stage-1``; None in single-stage builds) or, for
    buildah, the 0-based stage number as text."""
    cached: bool | None = None
    """True for a cache hit, False when it ran, None when the log does not say (FROM steps)."""
    duration_seconds: float | None = None
    error: str | None = None
    vertex: str | None = None
    """BuildKit's ``#N`` number (plain) or vertex digest (rawjson)."""

    @property
    def keyword(self) -> str:
        return self.instruction.split(" ", 1)[0].upper()


@dataclass(frozen=True, slots=True)
class BuildLog:
    """A parsed build log."""

    format: BuildLogFormat
    steps: tuple[BuildStep, ...]
    image_id: str | None = None
    """The built image's id as printed: ``sha256:<hex>``, 64 hex or a 12-hex short id."""
    tags: tuple[str, ...] = ()
    error: str | None = None
    """The builder's final error message when the build failed."""

    @property
    def cached_count(self) -> int:
        return sum(1 for step in self.steps if step.cached)


STEP_NAME = re.compile(r"^\[(?:(?P<stage>[^\]\s]+) +)?\s*(?P<n>\d+)/(?P<m>\d+)\] (?P<ins>.*)$")
"""A BuildKit vertex name for a Dockerfile step: ``[builder 2/5] RUN ...``, ``[ 2/12] COPY ...``."""


def sort_buildkit_steps(steps: list[BuildStep]) -> tuple[BuildStep, ...]:
    """Order BuildKit steps by stage (first appearance) then step number, and renumber them."""
    stage_order: dict[str | None, int] = {}
    for step in steps:
        stage_order.setdefault(step.stage, len(stage_order))
    ordered = sorted(steps, key=lambda s: (stage_order[s.stage], s.step_number or 0))
    return tuple(
        BuildStep(
            i,
            s.instruction,
            s.step_number,
            s.step_total,
            s.stage,
            s.cached,
            s.duration_seconds,
            s.error,
            s.vertex,
        )  # fmt: skip
        for i, s in enumerate(ordered)
    )
