"""Go parsing functions dive 0.13.1 uses on `.dive-ci` values, reproduced exactly.

- ``parse_float``: Go's ``strconv.ParseFloat(s, 64)`` (decimal, hex with a ``p`` exponent,
  ``inf``/``infinity``/``nan`` in any case, an optional sign; out of range is an error).
- ``parse_bytes``: go-humanize's ``ParseBytes`` (a number with optional ``,`` separators, then an
  optional unit: SI ``k``/``kb``/``m``…, IEC ``ki``/``kib``…, case-insensitive, spaces between).
- ``yaml_scalar_string``: what viper's ``GetString`` returns for a plain YAML scalar decoded by
  yaml.v3 (``0x10`` is ``16``, ``1e3`` is ``1000``, ``true`` is ``true``, ``~`` is unset).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

__all__ = ["GoParseError", "parse_bytes", "parse_float", "yaml_scalar_string"]


class GoParseError(ValueError):
    """The Go function would return an error."""


_DEC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_SPECIAL = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)


def parse_float(text: str) -> float:
    """``strconv.ParseFloat(text, 64)``."""
    if _SPECIAL.fullmatch(text):
        return float(text)
    if _DEC.fullmatch(text):
        value = float(text)
    elif _HEX.fullmatch(text):
        value = _hex_float(text)
    else:
        raise GoParseError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    if math.isinf(value):
        raise GoParseError(f'strconv.ParseFloat: parsing "{text}": value out of range')
    return value


def _hex_float(text: str) -> float:
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")[2:]
    mantissa, _, exponent = body.lower().partition("p")
    whole, _, frac = mantissa.partition(".")
    digits = int((whole or "0") + frac, 16)
    try:
        return sign * math.ldexp(float(digits), int(exponent) - 4 * len(frac))
    except OverflowError:
        return sign * math.inf


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "ki": 1024,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mi": 1024**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gi": 1024**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ti": 1024**4,
    "tib": 1024**4,
    "p": 1000**5,
    "pb": 1000**5,
    "pi": 1024**5,
    "pib": 1024**5,
    "e": 1000**6,
    "eb": 1000**6,
    "ei": 1024**6,
    "eib": 1024**6,
}


def parse_bytes(text: str) -> int:
    """go-humanize ``ParseBytes(text)``: ``20Mb`` = 20,000,000, ``32KiB`` = 32,768."""
    end = 0
    for char in text:
        if not (char.isdecimal() or char in ".,"):
            break
        end += 1
    number = text[:end].replace(",", "")
    if not number.isascii():
        raise GoParseError(f'strconv.ParseFloat: parsing "{number}": invalid syntax')
    value = parse_float(number)
    unit = text[end:].strip().lower()
    if unit not in _UNITS:
        raise GoParseError(f"unhandled size name: {unit}")
    value *= _UNITS[unit]
    if value >= 2.0**64:
        raise GoParseError(f"too large: {text}")
    return int(value)


_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": "true", "True": "true", "TRUE": "true"}
_BOOLS |= {"false": "false", "False": "false", "FALSE": "false"}
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}
_NEG_INF = {"-.inf", "-.Inf", "-.INF"}
_NAN = {".nan", ".NaN", ".NAN"}


def yaml_scalar_string(plain: str) -> str | None:
    """viper ``GetString`` of a plain (unquoted) YAML scalar; None for null (the key is unset)."""
    if plain in _NULLS:
        return None
    if plain in _BOOLS:
        return _BOOLS[plain]
    if plain in _INF:
        return "+Inf"
    if plain in _NEG_INF:
        return "-Inf"
    if plain in _NAN:
        return "NaN"
    if plain[:1] in "+-.0123456789":
        number = plain.replace("_", "")
        as_int = _go_parse_int(number)
        if as_int is not None and -(2**63) <= as_int < 2**64:
            return str(as_int)
        if _YAML_FLOAT.fullmatch(number):
            return format_float(float(number))
    return plain


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)`` without the range check; None on a syntax error."""
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    prefixes = {"0x": (16, "0123456789abcdefABCDEF"), "0o": (8, "01234567"), "0b": (2, "01")}
    base, digits = 10, "0123456789"
    lowered = body[:2].lower()
    if lowered in prefixes:
        base, digits = prefixes[lowered]
        body = body[2:]
    elif len(body) > 1 and body.startswith("0"):
        base, digits = 8, "01234567"
        body = body[1:]
    if not body or any(c not in digits for c in body):
        return None
    return sign * int(body, base)


def format_float(value: float) -> str:
    """Go ``strconv.FormatFloat(value, 'f', -1, 64)``: shortest digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return format(Decimal(repr(value)), "f")
