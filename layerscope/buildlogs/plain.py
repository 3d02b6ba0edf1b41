"""BuildKit ``--progress=plain`` output: ``#N`` vertex lines (formats.md 8b)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import (
    STEP_NAME,
    BuildLog,
    BuildLogError,
    BuildLogFormat,
    BuildStep,
    sort_buildkit_steps,
)

_LINE = re.compile(r"^#(\d+) (.*)$")
_DONE = re.compile(r"^DONE(?: (\d+(?:\.\d+)?)s)?\s*$")
_ERROR = re.compile(r"^ERROR:? ?(.*)$")
_WRITING = re.compile(r"^writing image (sha256:[0-9a-f]{64})\b")
_NAMING = re.compile(r"^naming to (\S+)")
_FAILED = re.compile(r"^(?:error|ERROR): (?:failed to solve: )?(.*)$")


@dataclass
class _Vertex:
    name: str
    cached: bool | None = None
    duration: float | None = None
    error: str | None = None


def parse_plain(text: str) -> BuildLog:
    """Parse BuildKit's plain progress output (what ``docker build --progress=plain`` writes)."""
    vertices: dict[int, _Vertex] = {}
    image_id: str | None = None
    tags: list[str] = []
    error: str | None = None
    rules = 0  # "------" lines: the failed step's context sits between two, the error after
    for line in text.splitlines():
        line = line.rstrip("\r")
        match = _LINE.match(line)
        if match is None:
            failed = _FAILED.match(line)
            if failed:
                error = failed.group(1).strip()
            elif line.strip() == "------":
                rules += 1
            elif rules >= 2 and rules % 2 == 0 and line.strip() and error is None:
                error = line.strip()  # Docker 20.10 prints the bare message
            continue
        number, rest = int(match.group(1)), match.group(2).strip()
        vertex = vertices.get(number)
        if vertex is None:
            vertices[number] = _Vertex(rest)
            continue
        if rest == "CACHED":
            vertex.cached = True
        elif done := _DONE.match(rest):
            vertex.cached = vertex.cached or False
            if done.group(1) is not None:
                vertex.duration = float(done.group(1))
        elif rest.startswith("ERROR") and (err := _ERROR.match(rest)):
            vertex.cached = False
            vertex.error = err.group(1).strip() or "failed"
        elif rest == "CANCELED":
            vertex.error = vertex.error or "canceled"
        elif written := _WRITING.match(rest):
            image_id = written.group(1)
        elif named := _NAMING.match(rest):
            tags.append(named.group(1))
    if not vertices:
        raise BuildLogError("not a BuildKit plain log: no '#N' vertex lines")
    steps: list[BuildStep] = []
    for number, vertex in vertices.items():
        step = STEP_NAME.match(vertex.name)
        if step is None:
            continue
        cached = None if step.group("ins").upper().startswith("FROM ") else vertex.cached
        if vertex.error:
            cached = False
        steps.append(
            BuildStep(
                0, step.group("ins").strip(), int(step.group("n")), int(step.group("m")),
                step.group("stage"), cached, None if vertex.cached else vertex.duration,
                vertex.error, f"#{number}",
            )
        )  # fmt: skip
    if error is None:
        error = next((s.error for s in steps if s.error), None)
    return BuildLog(
        BuildLogFormat.BUILDKIT_PLAIN, sort_buildkit_steps(steps), image_id, tuple(tags), error
    )
