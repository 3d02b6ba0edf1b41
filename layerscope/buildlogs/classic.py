"""The classic Docker builder's output: ``Step N/M : ...`` lines (formats.md 8b)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .model import BuildLog, BuildLogError, BuildLogFormat, BuildStep

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_ARROW = re.compile(r"^ ---> ?(.*)$")
_BUILT = re.compile(r"^Successfully built ([0-9a-f]+)\s*$")
_TAGGED = re.compile(r"^Successfully tagged (\S+)\s*$")
_FAILED = re.compile(r"^(The command .* returned a non-zero code: \d+)\s*$")


@dataclass
class _Open:
    number: int
    total: int
    instruction: str
    cached: bool | None = None
    result: bool = False
    notes: list[str] = field(default_factory=list)


def parse_classic(text: str) -> BuildLog:
    """Parse the classic builder's text output, or the Engine API's JSON message stream."""
    image_id: str | None = None
    error: str | None = None
    if text.lstrip().startswith("{"):
        text, image_id, error = _from_json_stream(text)
    steps: list[_Open] = []
    tags: list[str] = []
    for line in text.splitlines():
        line = line.rstrip("\r")
        if match := _STEP.match(line):
            steps.append(_Open(int(match.group(1)), int(match.group(2)), match.group(3).strip()))
        elif (match := _ARROW.match(line)) and steps:
            value = match.group(1).strip()
            if value == "Using cache":
                steps[-1].cached = True
            elif value.startswith("Running in "):
                steps[-1].cached = steps[-1].cached or False
            elif value:
                steps[-1].result = True
        elif match := _BUILT.match(line):
            image_id = image_id or match.group(1)
        elif match := _TAGGED.match(line):
            tags.append(match.group(1))
        elif match := _FAILED.match(line):
            error = match.group(1)
    if not steps:
        raise BuildLogError("not a classic builder log: no 'Step N/M :' lines")
    out: list[BuildStep] = []
    for i, step in enumerate(steps):
        cached = step.cached
        if cached is None and step.result:
            cached = False
        if step.instruction.split(" ", 1)[0].upper() == "FROM":
            cached = None
        failed = error if error is not None and i == len(steps) - 1 else None
        if failed:
            cached = False
        out.append(BuildStep(i, step.instruction, step.number, step.total, None, cached,
                             None, failed))  # fmt: skip
    return BuildLog(BuildLogFormat.CLASSIC, tuple(out), image_id, tuple(tags), error)


def _from_json_stream(text: str) -> tuple[str, str | None, str | None]:
    """Join the ``stream`` parts of Engine API build messages; pick the aux image id and error."""
    parts: list[str] = []
    image_id: str | None = None
    error: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError as exc:
            raise BuildLogError(f"line {number}: not a JSON build message ({exc})") from None
        if not isinstance(message, dict):
            raise BuildLogError(f"line {number}: not a JSON build message object")
        if isinstance(message.get("stream"), str):
            parts.append(message["stream"])
        aux = message.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            image_id = aux["ID"]
        if isinstance(message.get("error"), str):
            error = message["error"].strip()
    return "".join(parts), image_id, error
