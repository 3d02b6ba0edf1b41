"""The Authorization header of each registry request: Basic, or Bearer tokens per scope.

The auth half of the registry client (formats.md 5c): answers a ``WWW-Authenticate``
challenge, fetches, keeps and renews tokens (over ``registry_http``), and looks the
credentials up the first time they are needed. Challenge parsing and token documents, which
need no HTTP, are in ``registry_auth``.
"""

from __future__ import annotations

import base64
import threading
from typing import Any
from urllib.parse import urlsplit

from ..credentials import Credentials, lookup
from .registry_auth import Challenge, Token, parse_challenges, token_from_response
from .registry_http import (
    MAX_ATTEMPTS,
    RETRY_STATUSES,
    TRANSIENT,
    Fail,
    HttpSession,
    describe,
)

_BAD_BODY: tuple[type[BaseException], ...] = (ValueError, *TRANSIENT)


def _basic(creds: Credentials) -> str:
    pair = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


class Authorizer:
    """What one registry client sends as Authorization, per scope; thread-safe."""

    def __init__(
        self, registry: str, credentials: Credentials | None, http: HttpSession, fail: Fail
    ) -> None:
        self.registry = registry
        self.creds = credentials
        """The credentials as far as they are known (None until looked up, or none found)."""
        self._creds_loaded = credentials is not None
        self._http = http
        self._fail = fail
        self._tokens: dict[str, Token] = {}
        self._challenge: Challenge | None = None
        self._basic = False
        self._lock = threading.Lock()

    def _credentials(self) -> Credentials | None:
        with self._lock:
            if not self._creds_loaded:
                self.creds = lookup(self.registry)
                self._creds_loaded = True
            return self.creds

    def authorization(self, scope: str) -> str | None:
        """The header for a request in ``scope`` (a fresh token if the kept one expired)."""
        with self._lock:
            token = self._tokens.get(scope)
            challenge = self._challenge
        if token is not None and not token.expired():
            return f"Bearer {token.value}"
        if token is not None and challenge is not None:  # expired: get a fresh one
            return f"Bearer {self._fetch_token(challenge, scope).value}"
        if self._basic:
            creds = self._credentials()
            if creds is not None and creds.has_basic:
                return _basic(creds)
        return None

    def authenticate(self, header: str, scope: str) -> None:
        """Answer a 401's ``WWW-Authenticate`` so that the next request carries what it asks."""
        challenges = parse_challenges(header)
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        if bearer is not None and bearer.get("realm"):
            with self._lock:
                self._challenge = bearer
            self._fetch_token(bearer, scope)
            return
        if any(c.scheme == "basic" for c in challenges):
            creds = self._credentials()
            if creds is None or not creds.has_basic:
                raise self._fail(
                    f"{self.registry} requires a username and password; log in with docker "
                    "login or pass credentials"
                )
            if self._basic:
                raise self._fail(f"{self.registry} refused the username and password")
            self._basic = True
            return
        raise self._fail(f"{self.registry} asks for authentication layerscope does not know")

    def _fetch_token(self, challenge: Challenge, scope: str) -> Token:
        realm = challenge.get("realm") or ""
        if not realm.startswith(("https://", "http://")):
            raise self._fail(f"{self.registry}: token realm {realm!r} is not a URL")
        params: list[tuple[str, str]] = []
        service = challenge.get("service")
        if service:
            params.append(("service", service))
        scopes = [scope]
        for extra in (challenge.get("scope") or "").split(" "):
            if extra and extra not in scopes:
                scopes.append(extra)
        params.extend(("scope", s) for s in scopes)
        creds = self._credentials()
        headers: dict[str, str] = {}
        data: dict[str, str] | None = None
        method = "GET"
        if creds is not None and creds.registry_token:
            token = Token(creds.registry_token, float("inf"))
        else:
            if creds is not None and creds.identity_token:
                method, data = (
                    "POST",
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": creds.identity_token,
                        "service": service or "",
                        "scope": " ".join(scopes),
                        "client_id": "layerscope",
                    },
                )
                params = []
            elif creds is not None and creds.has_basic:
                headers["Authorization"] = _basic(creds)
            token = self._token_request(method, realm, headers, data, params)
        with self._lock:
            self._tokens[scope] = token
        return token

    def _token_request(
        self,
        method: str,
        realm: str,
        headers: dict[str, str],
        data: dict[str, str] | None,
        params: list[tuple[str, str]],
    ) -> Token:
        where = urlsplit(realm).netloc
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                resp = self._http.send(
                    method, realm, headers, stream=False, data=data, params=params
                )
            except TRANSIENT as exc:
                if attempt == MAX_ATTEMPTS:
                    raise self._fail(f"token server {where} unreachable ({describe(exc)})") from exc
                self._http.sleep(attempt, None)
                continue
            if resp.status_code in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                self._http.sleep(attempt, resp)
                continue
            if resp.status_code in (401, 403):
                raise self._fail(
                    f"token server {where} refused the credentials for {self.registry}"
                )
            if resp.status_code != 200:
                raise self._fail(f"token server {where} answered HTTP {resp.status_code}")
            try:
                doc: Any = resp.json()
            except _BAD_BODY as exc:  # a body cut short reads as bad JSON
                if attempt < MAX_ATTEMPTS:
                    continue
                raise self._fail(f"token server {where} answered with something not JSON") from exc
            return token_from_response(doc, where)
        raise self._fail(f"token server {where} kept failing")  # pragma: no cover
