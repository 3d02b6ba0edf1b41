"""buildah / podman build output: ``STEP N/M: ...`` lines (formats.md 8b)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import BuildLog, BuildLogError, BuildLogFormat, BuildStep

_STEP = re.compile(r"^(?:\[(\d+)/(\d+)\] )?STEP (\d+)(?:/(\d+))?: (.*)$")
_CACHE = re.compile(r"^--> Using cache ([0-9a-f]{64})\s*$")
_RESULT = re.compile(r"^--> ([0-9a-f]{6,64})\s*$")
_TAGGED = re.compile(r"^Successfully tagged (\S+)\s*$")
_IMAGE_ID = re.compile(r"^([0-9a-f]{64})\s*$")
_FAILED = re.compile(r"^(?:Error: )?((?:error )?building at STEP .*)$", re.IGNORECASE)


@dataclass
class _Open:
    stage: int | None
    number: int
    total: int | None
    instruction: str
    cached: bool | None = None


def parse_buildah(text: str) -> BuildLog:
    """Parse the output of ``buildah bud`` (``--layers`` or not) or ``podman build``."""
    steps: list[_Open] = []
    tags: list[str] = []
    image_id: str | None = None
    error: str | None = None
    for line in text.splitlines():
        line = line.rstrip("\r")
        if match := _STEP.match(line):
            stage = int(match.group(1)) - 1 if match.group(1) else None
            total = int(match.group(4)) if match.group(4) else None
            steps.append(_Open(stage, int(match.group(3)), total, match.group(5).strip()))
        elif _CACHE.match(line) and steps:
            steps[-1].cached = True
        elif _RESULT.match(line) and steps:
            if steps[-1].cached is None:
                steps[-1].cached = False
        elif match := _TAGGED.match(line):
            tags.append(match.group(1))
        elif match := _IMAGE_ID.match(line):
            image_id = match.group(1)
        elif match := _FAILED.match(line):
            error = match.group(1).strip()
    if not steps:
        raise BuildLogError("not a buildah log: no 'STEP N:' lines")
    out: list[BuildStep] = []
    for i, step in enumerate(steps):
        cached = None if step.instruction.upper().startswith("FROM ") else step.cached
        failed = error if error is not None and i == len(steps) - 1 else None
        out.append(
            BuildStep(
                i, step.instruction, step.number, step.total,
                None if step.stage is None else str(step.stage),
                False if failed else cached, None, failed,
            )
        )  # fmt: skip
    return BuildLog(BuildLogFormat.BUILDAH, tuple(out), image_id, tuple(tags), error)
