"""dive 0.13.1's `.dive-ci` file and its three rule flags, read with dive's exact semantics.

dive reads the file with viper (YAML, keys case-insensitive), takes ``rules.lowestEfficiency``,
``rules.highestWastedBytes`` and ``rules.highestUserWastedPercent`` as strings, and ignores every
other key. Only the exact value ``disabled`` turns a rule off; ``off``, ``false``, ``""`` and
anything else that does not parse are misconfigured. A key with a null value keeps the default;
a ``rules`` that is not a mapping leaves every rule empty (misconfigured). A duplicate key is a
YAML error. Efficiency and user-wasted thresholds must parse as Go floats within 0..1 (NaN passes
that check); wasted bytes parse with go-humanize (SI units, case-insensitive).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from layerscope.analysis.rules import DIVE_DEFAULTS, DIVE_KEYS, RuleSettings, Severity
from layerscope.errors import ConfigError

from .gocompat import GoParseError, format_float, parse_bytes, parse_float, yaml_scalar_string

__all__ = ["DiveValue", "dive_rule", "read_dive_ci"]


@dataclass(frozen=True, slots=True)
class DiveValue:
    """A rule value as dive's viper returns it, and where it came from."""

    key: str
    value: str
    line: int | None
    """1-based line in the file; None for a flag."""


def dive_rule(item: DiveValue, where: str, severity: Severity = Severity.ERROR) -> RuleSettings:
    """The layerscope rule a dive key and value set; ConfigError when dive says MISCONFIGURED."""
    rule_id = DIVE_KEYS[item.key]
    if item.value == "disabled":
        return RuleSettings(rule_id, None, severity, False)
    at = f"{where} line {item.line}" if item.line is not None else where
    try:
        if item.key == "highestWastedBytes":
            return RuleSettings(rule_id, parse_bytes(item.value), severity, True)
        value = parse_float(item.value)
    except GoParseError as exc:
        raise ConfigError(
            f"{at}: {item.key}: invalid value {item.value!r} ({exc}); "
            "dive 0.13.1 turns a rule off only with 'disabled'"
        ) from exc
    if value < 0 or value > 1:
        raise ConfigError(f"{at}: {item.key}: {item.value!r} is outside the allowed range 0-1")
    return RuleSettings(rule_id, value, severity, True)


def dive_defaults() -> dict[str, RuleSettings]:
    """dive's three rules with no configuration."""
    return {
        rule_id: RuleSettings(rule_id, value, Severity.ERROR, value is not None)
        for rule_id, value in DIVE_DEFAULTS.items()
    }


def read_dive_ci(text: str, where: str) -> dict[str, RuleSettings]:
    """The three dive rules a `.dive-ci` file configures, over dive's defaults."""
    values = _rule_values(text, where)
    out = dive_defaults()
    errors: list[str] = []
    for item in values.values():
        try:
            rule = dive_rule(item, where)
        except ConfigError as exc:
            errors.append(exc.message)
            continue
        out[rule.id] = rule
    if errors:
        raise ConfigError("; ".join(errors))
    return out


_DIVE_LOWER = {key.lower(): key for key in DIVE_KEYS}
_NOT_SCALAR = ""  # viper's GetString of a map or list


def _rule_values(text: str, where: str) -> dict[str, DiveValue]:
    """``rules.*`` of a `.dive-ci`, as viper's GetString sees them (null values left out)."""
    lines = [_strip_comment(raw) for raw in text.splitlines()]
    out: dict[str, DiveValue] = {}
    top_seen: dict[str, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        number = i + 1
        i += 1
        if not line.strip() or line.startswith(("---", "...", "%")) or line[0] in " \t":
            continue
        key, value = _key_value(line, where, number)
        if key in top_seen:
            raise ConfigError(
                f"{where} line {number}: key {key!r} already set on line "
                f"{top_seen[key]} (a YAML error for dive too)"
            )
        top_seen[key] = number
        if key.lower() != "rules":
            continue
        block: list[tuple[int, str]] = []
        while i < len(lines) and (not lines[i].strip() or lines[i][0] in " \t"):
            if lines[i].strip():
                block.append((i + 1, lines[i]))
            i += 1
        if value is not None:
            if value.startswith("{"):
                out = _flow_rules(value, where, number)
            elif _plain(value, where, number) is not None:
                out = {k: DiveValue(k, _NOT_SCALAR, number) for k in DIVE_KEYS}
            continue
        out = _block_rules(block, where)
    return out


def _block_rules(block: list[tuple[int, str]], where: str) -> dict[str, DiveValue]:
    out: dict[str, DiveValue] = {}
    if not block:
        return out
    indent = len(block[0][1]) - len(block[0][1].lstrip())
    if block[0][1].strip().startswith("- "):
        return {k: DiveValue(k, _NOT_SCALAR, block[0][0]) for k in DIVE_KEYS}
    seen: dict[str, int] = {}
    for index, (number, line) in enumerate(block):
        here = len(line) - len(line.lstrip())
        if here > indent:
            continue  # inside a nested value: a map or list, not a scalar
        if here < indent:
            raise ConfigError(f"{where} line {number}: bad indentation")
        key, value = _key_value(line.strip(), where, number)
        if key in seen:
            raise ConfigError(
                f"{where} line {number}: key {key!r} already set on line "
                f"{seen[key]} (a YAML error for dive too)"
            )
        seen[key] = number
        name = _DIVE_LOWER.get(key.lower())
        if name is None:
            continue  # dive ignores unknown keys
        nested = index + 1 < len(block) and _indent(block[index + 1][1]) > indent
        if value is None:
            if nested:
                out[name] = DiveValue(name, _NOT_SCALAR, number)
            else:
                out.pop(name, None)  # null: dive keeps the default
            continue
        scalar = _scalar(value, where, number)
        if scalar is None:
            out.pop(name, None)
        else:
            out[name] = DiveValue(name, scalar, number)
    return out


def _flow_rules(value: str, where: str, number: int) -> dict[str, DiveValue]:
    if not value.endswith("}"):
        raise ConfigError(
            f"{where} line {number}: unsupported YAML (a flow mapping must end on its line)"
        )
    out: dict[str, DiveValue] = {}
    body = value[1:-1].strip()
    for part in _split_flow(body):
        key, item = _key_value(part.strip(), where, number)
        name = _DIVE_LOWER.get(key.lower())
        if name is None:
            continue
        scalar = _scalar(item, where, number) if item is not None else None
        if scalar is None:
            out.pop(name, None)
        else:
            out[name] = DiveValue(name, scalar, number)
    return out


def _split_flow(body: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for pos, char in enumerate(body):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:pos])
            start = pos + 1
    parts.append(body[start:])
    return [p for p in parts if p.strip()]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


_KEY = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:#"'][^:]*?)\s*:(?:\s+(.*))?$""")


def _key_value(line: str, where: str, number: int) -> tuple[str, str | None]:
    match = _KEY.match(line.strip())
    if match is None:
        raise ConfigError(f"{where} line {number}: not a 'key: value' line: {line.strip()!r}")
    key = match.group(1)
    if key[:1] in "\"'":
        key = _quoted(key, where, number)
    value = match.group(2)
    return key, (value.strip() or None) if value is not None else None


def _scalar(value: str, where: str, number: int) -> str | None:
    if value.startswith(("[", "{")):
        return _NOT_SCALAR
    if value[:1] in "\"'":
        return _quoted(value, where, number)
    return _plain(value, where, number)


def _plain(value: str, where: str, number: int) -> str | None:
    if value[:1] in "&*!|>@`":
        raise ConfigError(
            f"{where} line {number}: unsupported YAML {value!r} (anchors, tags and "
            "block scalars are not read)"
        )
    return yaml_scalar_string(value)


def _quoted(text: str, where: str, number: int) -> str:
    quote = text[0]
    if len(text) < 2 or text[-1] != quote:
        raise ConfigError(f"{where} line {number}: unterminated quoted string {text!r}")
    body = text[1:-1]
    if quote == "'":
        return body.replace("''", "'")
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "0": "\0", " ": " "}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body)


def _strip_comment(line: str) -> str:
    """The line without a ``#`` comment (one at its start or after a space, outside quotes)."""
    quote = ""
    for pos, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'" and (pos == 0 or line[pos - 1] in " \t:{[,"):
            quote = char
        elif char == "#" and (pos == 0 or line[pos - 1] in " \t"):
            return line[:pos].rstrip()
    return line.rstrip()


def flag_values(flags: Mapping[str, str | None]) -> tuple[DiveValue, ...]:
    """dive's rule flags that were given (``--lowestEfficiency`` …), as DiveValues."""
    return tuple(DiveValue(k, v, None) for k, v in flags.items() if v is not None)


__all__ += ["dive_defaults", "flag_values", "format_float"]
