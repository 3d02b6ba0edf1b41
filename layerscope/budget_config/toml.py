"""layerscope's own budget configuration: `.layerscope.toml` or ``[tool.layerscope]``.

    dockerfile = "Dockerfile"      # optional: for suggestions and SARIF locations
    baseline = "last"              # optional: "last" (recorded build), a REF or an export.json
    store = "postgresql://ci@db/layerscope"  # optional: the history store URL (store.location)
    [rules]
    max_size = "250MB"             # shorthand: the threshold, severity error
    max_layers = { threshold = 30, severity = "warning" }
    [rules.forbidden_paths]
    threshold = ["**/.git/**", "**/*.pem", "**/id_rsa"]
    enabled = true

Unknown keys are errors that name the key and its line.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from layerscope.analysis.budget.specs import SPECS
from layerscope.analysis.rules import RuleId, RuleSettings, Severity, Threshold, ThresholdKind
from layerscope.errors import ConfigError

from .gocompat import GoParseError, parse_bytes

__all__ = ["LayerscopeConfig", "parse_threshold", "read_layerscope_toml"]

_TOP_KEYS = ("rules", "dockerfile", "baseline", "store")
_RULE_KEYS = ("threshold", "severity", "enabled")


@dataclass(frozen=True, slots=True)
class LayerscopeConfig:
    """What a layerscope configuration table sets."""

    rules: tuple[RuleSettings, ...]
    dockerfile: str | None = None
    baseline: str | None = None


def read_layerscope_toml(
    text: str | Mapping[str, Any],
    where: str,
    prefix: Sequence[str] = (),
    *,
    defaults: dict[RuleId, RuleSettings],
) -> LayerscopeConfig | None:
    """Parse a TOML file and read the table at ``prefix`` (``("tool", "layerscope")`` in
    pyproject.toml); None when that table is absent. Rules not named keep ``defaults``.
    ``text`` may also be the parsed document (a mapping, from the Python API)."""
    if isinstance(text, Mapping):
        data: Any = dict(text)
        text = ""  # no file: errors name the key, not a line
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
    for part in prefix:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    keys = list(prefix)

    def fail(path: Sequence[str], message: str) -> ConfigError:
        line = line_of(text, [*keys, *path])
        at = f"{where} line {line}" if line else where
        return ConfigError(f"{at}: {'.'.join([*keys, *path])}: {message}")

    if not isinstance(data, dict):
        raise fail([], "must be a table")
    for key in data:
        if key not in _TOP_KEYS:
            raise fail([key], f"unknown key (expected one of: {', '.join(_TOP_KEYS)})")
    for key in ("dockerfile", "baseline", "store"):
        if key in data and not isinstance(data[key], str):
            raise fail([key], "must be a string")
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise fail(["rules"], "must be a table")
    out = dict(defaults)
    for name, value in rules.items():
        try:
            rule_id = RuleId(name)
        except ValueError:
            raise fail(["rules", name], f"unknown rule (known: {', '.join(RuleId)})") from None
        try:
            out[rule_id] = _rule(rule_id, value, out[rule_id])
        except _KeyError as exc:
            raise fail(["rules", name, *exc.path], exc.message) from None
    return LayerscopeConfig(tuple(out.values()), data.get("dockerfile"), data.get("baseline"))


class _KeyError(Exception):
    def __init__(self, path: Sequence[str], message: str) -> None:
        super().__init__(message)
        self.path = tuple(path)
        self.message = message


def _rule(rule_id: RuleId, value: object, current: RuleSettings) -> RuleSettings:
    if isinstance(value, dict):
        for key in value:
            if key not in _RULE_KEYS:
                raise _KeyError([key], f"unknown key (expected one of: {', '.join(_RULE_KEYS)})")
        threshold = current.threshold
        if "threshold" in value:
            try:
                threshold = parse_threshold(rule_id, value["threshold"])
            except ValueError as exc:
                raise _KeyError(["threshold"], str(exc)) from None
        severity = current.severity
        if "severity" in value:
            try:
                severity = Severity(value["severity"])
            except ValueError:
                raise _KeyError(["severity"], "must be 'error' or 'warning'") from None
        enabled = "threshold" in value or current.enabled
        if "enabled" in value:
            if not isinstance(value["enabled"], bool):
                raise _KeyError(["enabled"], "must be true or false")
            enabled = value["enabled"]
        if enabled and threshold is None:
            raise _KeyError([], "is enabled but has no threshold")
        return RuleSettings(rule_id, threshold, severity, enabled)
    if value is False:
        return RuleSettings(rule_id, current.threshold, current.severity, False)
    try:
        return RuleSettings(rule_id, parse_threshold(rule_id, value), current.severity, True)
    except ValueError as exc:
        raise _KeyError([], str(exc)) from None


_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
_PERCENT = re.compile(r"\s*([+-]?[0-9]*\.?[0-9]+)\s*%\s*")


def parse_threshold(rule_id: RuleId, value: object) -> Threshold:
    """A threshold from TOML (or a ``--rule NAME=VALUE`` flag, as a string); ValueError says why.

    Bytes: an integer or a size with a unit (SI: ``250MB`` = 250,000,000; IEC: ``1GiB``).
    Ratios: a number (``0.9``) or a percentage string (``"90%"``). Counts: an integer.
    Patterns and label names: a list of strings (a flag gives them comma-separated).
    """
    kind = SPECS[rule_id].kind
    if kind in (ThresholdKind.PATTERNS, ThresholdKind.NAMES):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError("must be a list of non-empty strings")
        return tuple(value)
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false (use enabled = false to turn it off)")
    if kind is ThresholdKind.COUNT:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or value < 0:
            raise ValueError("must be a whole number, 0 or more")
        return value
    if kind is ThresholdKind.BYTES:
        return _bytes(value, signed=SPECS[rule_id].signed)
    return _ratio(value, bounded=SPECS[rule_id].bounded)


def _bytes(value: object, *, signed: bool) -> int:
    if isinstance(value, str):
        text = value.strip()
        negative = signed and text.startswith("-")
        try:
            number = parse_bytes(text[1:] if negative else text)
        except GoParseError:
            raise ValueError(
                f"not a size: {value!r} (write bytes or a number with a unit: '250MB', '1.5GiB')"
            ) from None
        return -number if negative else number
    if not isinstance(value, int) or (value < 0 and not signed):
        raise ValueError("must be a size in bytes: an integer or a string such as '250MB'")
    return value


def _ratio(value: object, *, bounded: bool) -> float:
    if isinstance(value, str):
        match = _PERCENT.fullmatch(value)
        if match is not None:
            value = float(match.group(1)) / 100
        elif _NUMBER.fullmatch(value):
            value = float(value)
        else:
            raise ValueError(f"not a ratio: {value!r} (use 0.25 or '25%')")
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("must be a number such as 0.25, or a percentage such as '25%'")
    if bounded and not 0 <= value <= 1:
        raise ValueError(f"must be between 0 and 1, not {value}")
    return float(value)


_HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(
    r"""\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="""
)


def _dotted(text: str) -> list[str]:
    parts = re.findall(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)""", text)
    return [a or b or c for a, b, c in parts]


def line_of(text: str, path: Sequence[str]) -> int | None:
    """The 1-based line that sets ``path`` (or the closest enclosing table or key)."""
    target = list(path)
    best: tuple[int, int] | None = None  # (matched length, line)
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header is not None and not line.lstrip().startswith("#"):
            table = _dotted(header.group(1))
            here = table
        else:
            assign = _ASSIGN.match(line)
            if assign is None:
                continue
            here = [*table, *_dotted(assign.group(1))]
        length = 0
        while length < min(len(here), len(target)) and here[length] == target[length]:
            length += 1
        if length == len(here) and length and (best is None or length > best[0]):
            best = (length, number)
    return best[1] if best else None
