"""Read build logs of the classic builder, BuildKit (plain, rawjson) and buildah (formats.md 8b)."""

from __future__ import annotations

import json
import re

from .buildah import parse_buildah
from .classic import parse_classic
from .join import LayerStep, join_log_to_layers, normalise_instruction
from .model import BuildLog, BuildLogError, BuildLogFormat, BuildStep
from .plain import parse_plain
from .rawjson import parse_rawjson

_CLASSIC = re.compile(r"^Step \d+/\d+ : ")
_PLAIN = re.compile(r"^#\d+ \S")
_BUILDAH = re.compile(r"^(?:\[\d+/\d+\] )?STEP \d+(?:/\d+)?: ")
_RAWJSON_KEYS = frozenset({"vertexes", "statuses", "logs", "warnings"})
_API_KEYS = frozenset({"stream", "aux", "errorDetail", "error", "status"})
_SNIFF_LINES = 2000


def detect_format(text: str) -> BuildLogFormat:
    """Which builder wrote ``text``, from its first recognisable line."""
    for number, line in enumerate(text.splitlines()[:_SNIFF_LINES], 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("{"):
            try:
                message = json.loads(stripped)
            except ValueError:
                raise BuildLogError(f"line {number}: looks like JSON but is not") from None
            if isinstance(message, dict) and _RAWJSON_KEYS & message.keys():
                return BuildLogFormat.BUILDKIT_RAWJSON
            if isinstance(message, dict) and _API_KEYS & message.keys():
                return BuildLogFormat.CLASSIC
            continue
        if _CLASSIC.match(line):
            return BuildLogFormat.CLASSIC
        if _PLAIN.match(line):
            return BuildLogFormat.BUILDKIT_PLAIN
        if _BUILDAH.match(line):
            return BuildLogFormat.BUILDAH
    raise BuildLogError(
        "not a build log: no classic 'Step N/M :', BuildKit '#N' or rawjson, "
        "or buildah 'STEP N:' lines"
    )


def parse_build_log(text: str, *, format: BuildLogFormat | None = None) -> BuildLog:
    """Parse a build log; the format is detected unless given."""
    kind = format or detect_format(text)
    if kind is BuildLogFormat.CLASSIC:
        return parse_classic(text)
    if kind is BuildLogFormat.BUILDKIT_PLAIN:
        return parse_plain(text)
    if kind is BuildLogFormat.BUILDKIT_RAWJSON:
        return parse_rawjson(text)
    return parse_buildah(text)


__all__ = [
    "BuildLog",
    "BuildLogError",
    "BuildLogFormat",
    "BuildStep",
    "LayerStep",
    "detect_format",
    "join_log_to_layers",
    "normalise_instruction",
    "parse_build_log",
]
