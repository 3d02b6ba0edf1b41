"""BuildKit ``--progress=rawjson``: one JSON SolveStatus per line (formats.md 8b)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .model import (
    STEP_NAME,
    BuildLog,
    BuildLogError,
    BuildLogFormat,
    BuildStep,
    sort_buildkit_steps,
)

_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_WRITING = re.compile(r"^writing image (sha256:[0-9a-f]{64})\b")
_NAMING = re.compile(r"^naming to (\S+)")


@dataclass
class _Vertex:
    name: str
    order: int
    started: int | None = None
    completed: int | None = None
    """Nanoseconds since the epoch."""
    cached: bool = False
    error: str | None = None


def parse_time_ns(value: str) -> int:
    """RFC 3339 with up to nanosecond precision -> nanoseconds since the epoch."""
    match = _TIME.match(value)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    whole = int(datetime.fromisoformat(match.group(1) + zone).timestamp())
    fraction = (match.group(2) or ".")[1:10].ljust(9, "0")
    return whole * 1_000_000_000 + int(fraction)


def parse_rawjson(text: str) -> BuildLog:
    """Parse ``--progress=rawjson`` output: vertexes merged by digest, durations from times."""
    vertices: dict[str, _Vertex] = {}
    image_id: str | None = None
    tags: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            status = json.loads(line)
            if not isinstance(status, dict):
                raise ValueError("not an object")
            for raw in status.get("vertexes") or ():
                _merge(vertices, raw)
            for raw in status.get("statuses") or ():
                ident = str(raw.get("id", ""))
                if written := _WRITING.match(ident):
                    image_id = written.group(1)
                elif (named := _NAMING.match(ident)) and named.group(1) not in tags:
                    tags.append(named.group(1))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise BuildLogError(f"line {number}: not a BuildKit SolveStatus ({exc})") from None
    if not vertices:
        raise BuildLogError("not a BuildKit rawjson log: no vertexes")
    steps: list[BuildStep] = []
    for digest, vertex in sorted(vertices.items(), key=lambda item: item[1].order):
        step = STEP_NAME.match(vertex.name)
        if step is None:
            continue
        duration = None
        if vertex.started is not None and vertex.completed is not None:
            duration = max(0, vertex.completed - vertex.started) / 1e9
        is_from = step.group("ins").upper().startswith("FROM ")
        cached = None if is_from else (False if vertex.error else vertex.cached)
        if vertex.completed is None and not vertex.cached and not vertex.error:
            cached = None  # never finished: the log was cut short
        steps.append(
            BuildStep(
                0, step.group("ins").strip(), int(step.group("n")), int(step.group("m")),
                step.group("stage"), cached, duration, vertex.error, digest,
            )
        )  # fmt: skip
    errors = [v.error for v in vertices.values() if v.error]
    return BuildLog(
        BuildLogFormat.BUILDKIT_RAWJSON, sort_buildkit_steps(steps), image_id, tuple(tags),
        errors[0] if errors else None,
    )  # fmt: skip


def _merge(vertices: dict[str, _Vertex], raw: Any) -> None:
    digest = str(raw["digest"])
    vertex = vertices.get(digest)
    if vertex is None:
        vertex = vertices[digest] = _Vertex(str(raw.get("name", "")), len(vertices))
    if raw.get("name"):
        vertex.name = str(raw["name"])
    if raw.get("started"):
        started = parse_time_ns(str(raw["started"]))
        vertex.started = started if vertex.started is None else min(vertex.started, started)
    if raw.get("completed"):
        completed = parse_time_ns(str(raw["completed"]))
        vertex.completed = (
            completed if vertex.completed is None else max(vertex.completed, completed)
        )
    if raw.get("cached"):
        vertex.cached = True
    if raw.get("error"):
        vertex.error = str(raw["error"])
