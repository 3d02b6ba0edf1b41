"""Registry auth pieces that need no HTTP: challenge parsing, scopes, tokens (formats.md 5c)."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any

from ..errors import RegistryUnavailableError

DEFAULT_TOKEN_TTL_S = 60
"""``expires_in`` when a token server omits it (distribution token spec)."""
EXPIRY_MARGIN_S = 5.0


@dataclass(frozen=True, slots=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: scheme (lower case) and its parameters."""

    scheme: str
    params: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _token(text: str, pos: int) -> tuple[str, int]:
    start = pos
    while pos < len(text) and text[pos] in _TOKEN_CHARS:
        pos += 1
    return text[start:pos], pos


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """A quoted-string starting at ``text[pos] == '"'``; backslash escapes any character."""
    out: list[str] = []
    pos += 1
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
            continue
        if ch == '"':
            return "".join(out), pos + 1
        out.append(ch)
        pos += 1
    return "".join(out), pos  # unterminated: take what is there


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value (RFC 7235): several challenges, quoted parameters."""
    challenges: list[Challenge] = []
    pos = 0
    scheme: str | None = None
    params: list[tuple[str, str]] = []
    while pos < len(header):
        pos = _skip_space(header, pos)
        if pos < len(header) and header[pos] == ",":
            pos += 1
            continue
        word, after = _token(header, pos)
        if not word:
            pos += 1  # stray character: skip it
            continue
        look = _skip_space(header, after)
        if look < len(header) and header[look] == "=" and scheme is not None:
            # name=value (token68 values such as "abc==" end with '=' and no value: allow that)
            value_pos = _skip_space(header, look + 1)
            if value_pos < len(header) and header[value_pos] == '"':
                value, pos = _quoted(header, value_pos)
            else:  # a bare value (lenient: anything up to a comma or space, e.g. a URL)
                end = value_pos
                while end < len(header) and header[end] not in ", \t":
                    end += 1
                value, pos = header[value_pos:end], end
            params.append((word.lower(), value))
            continue
        if scheme is not None:
            challenges.append(Challenge(scheme, tuple(params)))
        scheme, params, pos = word.lower(), [], after
    if scheme is not None:
        challenges.append(Challenge(scheme, tuple(params)))
    return challenges


def pull_scope(repository: str) -> str:
    """The token scope for pulling ``repository`` (``library/alpine`` on Docker Hub)."""
    return f"repository:{repository}:pull"


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token and when it stops being usable (``time.monotonic`` seconds)."""

    value: str
    expires_at: float

    def expired(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) >= self.expires_at


def token_from_response(doc: Any, realm: str) -> Token:
    """Read a token server's JSON answer: ``token`` or ``access_token``, ``expires_in``."""
    if not isinstance(doc, dict):
        raise RegistryUnavailableError(f"token server {realm} answered with something unexpected")
    value = doc.get("token") or doc.get("access_token")
    if not isinstance(value, str) or not value:
        raise RegistryUnavailableError(f"token server {realm} gave no token")
    if not all("!" <= c <= "~" for c in value):  # it goes into an Authorization header
        raise RegistryUnavailableError(
            f"token server {realm} gave a token that is not printable ASCII"
        )
    ttl = doc.get("expires_in")
    seconds = float(ttl) if isinstance(ttl, int | float) and ttl > 0 else float(DEFAULT_TOKEN_TTL_S)
    margin = min(EXPIRY_MARGIN_S, seconds / 10)
    return Token(value, time.monotonic() + seconds - margin)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header as seconds to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_summary(body: bytes) -> str:
    """The first ``errors[].code: message`` of a registry JSON error body, or ''."""
    import json

    try:
        doc = json.loads(body[:65536])
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return ""
    first = errors[0]
    code = str(first.get("code") or "").strip()
    message = " ".join(str(first.get("message") or "").split())[:200]
    return f"{code}: {message}" if code and message else code or message
