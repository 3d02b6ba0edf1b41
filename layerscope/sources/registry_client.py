"""HTTP for the registry source: auth, retries, redirects (formats.md 5b, 5c).

The only module besides ``registry.py`` that uses ``requests`` (both are "the registry source").
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import ipaddress
import math
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import requests.utils
import urllib3.exceptions

from ..credentials import HUB_HOSTS, Credentials, lookup, scrub
from ..errors import (
    ConfigError,
    DigestMismatchError,
    NotFoundError,
    RegistryUnavailableError,
)
from ..model import Digest
from .registry_auth import (
    Challenge,
    Token,
    error_summary,
    parse_challenges,
    retry_after_seconds,
    token_from_response,
)

HUB_API_HOST = "registry-1.docker.io"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 5
MAX_WAIT_S = 60.0
BACKOFF_BASE_S = 0.25
MAX_REDIRECTS = 8
MANIFEST_ATTEMPTS = 2
"""A manifest that does not hash to its digest is fetched once more before it is an error."""
MAX_TAG_PAGES = 10_000
"""Tag-list pages followed at most (a Link header that leads back to a page is an error)."""
TIMEOUT = (15.0, 120.0)
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    urllib3.exceptions.HTTPError,
    requests.RequestException,
)
"""Errors of a request or a body read that a retry or a resume may fix."""
_BAD_BODY: tuple[type[BaseException], ...] = (ValueError, *TRANSIENT)

ENV_TIMEOUT = "LAYERSCOPE_REGISTRY_TIMEOUT"
"""Seconds to wait for a connection and for each read (default 15 s to connect, 120 s to read)."""
ENV_MAX_WAIT = "LAYERSCOPE_REGISTRY_MAX_WAIT"
"""Longest pause before one retry, Retry-After included (default 60 s)."""


def _env_seconds(name: str) -> float | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name}={text!r} is not a number of seconds")
    return value


def timeouts() -> tuple[tuple[float, float], float]:
    """(connect, read) timeouts and the longest retry pause, from the environment."""
    timeout = _env_seconds(ENV_TIMEOUT)
    max_wait = _env_seconds(ENV_MAX_WAIT)
    return (
        TIMEOUT if timeout is None else (max(timeout, 0.001), max(timeout, 0.001)),
        MAX_WAIT_S if max_wait is None else max_wait,
    )


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``*.localhost`` and loopback IPs, with or without a port."""
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        name = host.split(":", 1)[0]
    else:
        name = host
    name = name.lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


_SCHEMES: dict[tuple[str, bool], str] = {}
"""The scheme each loopback / insecure host answered the probe with, for this process (the
probe costs a TLS context and a handshake; a command may open several clients per host)."""
_SCHEMES_LOCK = threading.Lock()


class RegistryClient:
    """One registry's API: picks the scheme, authenticates, retries and follows redirects."""

    def __init__(
        self,
        registry: str,
        *,
        insecure: Sequence[str] = (),
        credentials: Credentials | None = None,
        pool_size: int = 8,
    ) -> None:
        self.registry = registry
        self.host = HUB_API_HOST if registry in HUB_HOSTS else registry
        self._insecure = registry in insecure or self.host in insecure
        self._plain_ok = self._insecure or is_loopback(self.host)
        self._scheme: str | None = None if self._plain_ok else "https"
        self._creds = credentials
        self._creds_loaded = credentials is not None
        self._tokens: dict[str, Token] = {}
        self._challenge: Challenge | None = None
        self._basic = False
        self._lock = threading.Lock()
        self.timeout, self.max_wait = timeouts()
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc Authorization on redirects to other hosts
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        self.session.close()

    # --- plumbing -----------------------------------------------------------------------------

    def _credentials(self) -> Credentials | None:
        with self._lock:
            if not self._creds_loaded:
                self._creds = lookup(self.registry)
                self._creds_loaded = True
            return self._creds

    def _fail(self, text: str) -> RegistryUnavailableError:
        return RegistryUnavailableError(scrub(text, self._creds))

    def _base(self) -> str:
        if self._scheme is None:
            key = (self.host, self._insecure)
            with _SCHEMES_LOCK:
                known = _SCHEMES.get(key)
            if known is None:
                known = self._probe_scheme()
                with _SCHEMES_LOCK:
                    _SCHEMES[key] = known
            self._scheme = known
        return f"{self._scheme}://{self.host}"

    def _probe_scheme(self) -> str:
        """https, or plain http for loopback and ``--insecure-registry`` hosts that lack TLS."""
        try:
            resp = self.session.get(
                f"https://{self.host}/v2/",
                timeout=self.timeout,
                verify=not self._insecure,
                allow_redirects=False,
            )
            resp.close()
            return "https"
        except requests.exceptions.SSLError:
            return "http"
        except requests.RequestException:
            return "http"

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        stream: bool,
        data: Mapping[str, str] | None = None,
        params: Sequence[tuple[str, str]] | None = None,
    ) -> requests.Response:
        """One request, following redirects; Authorization never goes to another host."""
        for _ in range(MAX_REDIRECTS + 1):
            resp = self.session.request(
                method,
                url,
                headers=headers,
                stream=stream,
                allow_redirects=False,
                timeout=self.timeout,
                verify=not self._insecure,
                data=data,
                params=params,
                proxies=requests.utils.get_environ_proxies(url),
            )
            location = resp.headers.get("Location")
            if resp.status_code in (301, 302, 303, 307, 308) and location:
                resp.close()
                target = urljoin(resp.url, location)
                if urlsplit(target).netloc.lower() != urlsplit(url).netloc.lower():
                    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                if resp.status_code == 303:
                    method, data = "GET", None
                url, params = target, None
                continue
            return resp
        raise self._fail(f"{self.host}: too many redirects for {urlsplit(url).path}")

    def _sleep(self, attempt: int, resp: requests.Response | None) -> None:
        wait = retry_after_seconds(resp.headers.get("Retry-After")) if resp is not None else None
        if wait is None:
            wait = BACKOFF_BASE_S * (2 ** (attempt - 1)) * (1 + random.random() / 2)
        time.sleep(min(wait, self.max_wait))

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """A registry API request with auth, retries on 429/5xx and dropped connections."""
        auth_rounds = 0
        attempt = 0
        while True:
            attempt += 1
            sent = dict(headers or {})
            auth = self._authorization(scope)
            if auth:
                sent["Authorization"] = auth
            url = path if "://" in path else self._base() + path
            try:
                resp = self._send(method, url, sent, stream=stream)
            except TRANSIENT as exc:
                if attempt >= MAX_ATTEMPTS:
                    raise self._fail(
                        f"{self.host}: cannot reach the registry ({_describe(exc)})"
                    ) from exc
                self._sleep(attempt, None)
                continue
            if resp.status_code == 401 and auth_rounds < 2:
                auth_rounds += 1
                header = resp.headers.get("WWW-Authenticate", "")
                resp.close()
                self._authenticate(header, scope)
                continue
            if resp.status_code in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                self._sleep(attempt, resp)
                resp.close()
                continue
            return resp

    def check(self, resp: requests.Response, what: str) -> None:
        """Turn an unsuccessful answer into a one-line error (the body says why)."""
        if resp.status_code < 300:
            return
        try:
            body = resp.content[:65536]
        except TRANSIENT:
            body = b""
        resp.close()
        why = error_summary(body)
        detail = f" ({why})" if why else ""
        if resp.status_code == 404:
            raise NotFoundError(scrub(f"{what}: not found in {self.registry}{detail}", self._creds))
        if resp.status_code in (401, 403):
            creds = self._creds
            hint = "" if creds is not None else "; log in with docker login or pass credentials"
            raise self._fail(f"{what}: {self.registry} refused access{detail}{hint}")
        if resp.status_code == 429:
            raise self._fail(f"{what}: {self.registry} rate limit reached (HTTP 429){detail}")
        raise self._fail(f"{what}: {self.registry} answered HTTP {resp.status_code}{detail}")

    # --- auth ---------------------------------------------------------------------------------

    def _authorization(self, scope: str) -> str | None:
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
                pair = f"{creds.username}:{creds.password}".encode()
                return "Basic " + base64.b64encode(pair).decode()
        return None

    def _authenticate(self, header: str, scope: str) -> None:
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
                pair = f"{creds.username}:{creds.password}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
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
                resp = self._send(method, realm, headers, stream=False, data=data, params=params)
            except TRANSIENT as exc:
                if attempt == MAX_ATTEMPTS:
                    raise self._fail(
                        f"token server {where} unreachable ({_describe(exc)})"
                    ) from exc
                self._sleep(attempt, None)
                continue
            if resp.status_code in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                self._sleep(attempt, resp)
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

    # --- endpoints ----------------------------------------------------------------------------

    def manifest(self, repository: str, reference: str, accept: str) -> tuple[bytes, str, Digest]:
        """A manifest or index by tag or digest: (exact bytes, media type, digest); fetched once
        more when it arrives not hashing to its digest (a body cut or changed on the way)."""
        scope = f"repository:{repository}:pull"
        what = f"{self.registry}/{repository}{'@' if ':' in reference else ':'}{reference}"
        for attempt in range(1, MANIFEST_ATTEMPTS + 1):
            resp = self.request(
                "GET",
                f"/v2/{repository}/manifests/{reference}",
                scope=scope,
                headers={"Accept": accept},
            )
            self.check(resp, what)
            body: bytes = resp.content
            media = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
            computed = Digest("sha256:" + hashlib.sha256(body).hexdigest())
            if ":" in reference:
                expected = reference if reference.startswith("sha256:") else computed
            else:
                header = resp.headers.get("Docker-Content-Digest", "")
                expected = header if header.startswith("sha256:") else computed
            if computed == expected:
                return body, media, Digest(reference) if ":" in reference else computed
            if attempt == MANIFEST_ATTEMPTS:
                raise DigestMismatchError(f"{what}: manifest hashes to {computed}, not {expected}")
        raise AssertionError("unreachable")  # pragma: no cover

    def blob_bytes(self, repository: str, digest: Digest, limit: int = 64 << 20) -> bytes:
        """A small blob (a config), read whole and verified; fetched again if it arrives bad."""
        what = f"{self.registry}/{repository}@{digest}"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            resp = self.request(
                "GET",
                f"/v2/{repository}/blobs/{digest}",
                scope=f"repository:{repository}:pull",
                stream=True,
                headers={"Accept-Encoding": "identity"},
            )
            self.check(resp, what)
            try:
                data: bytes = resp.raw.read(limit + 1, decode_content=False)
            except TRANSIENT as exc:
                if attempt == MAX_ATTEMPTS:
                    raise self._fail(f"{what}: download kept failing ({_describe(exc)})") from exc
                continue
            finally:
                resp.close()
            if len(data) > limit:
                raise DigestMismatchError(f"{what}: blob is larger than {limit} bytes")
            actual = "sha256:" + hashlib.sha256(data).hexdigest()
            if not digest.startswith("sha256:") or actual == digest:
                return data
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and len(data) < int(declared):  # the connection ended early
                if attempt == MAX_ATTEMPTS:
                    raise self._fail(
                        f"{what}: download kept failing (connection closed after {len(data)} "
                        f"of {declared} bytes)"
                    )
                continue
            if attempt >= 2:
                raise DigestMismatchError(f"{what}: blob hashes to {actual}")
        raise self._fail(f"{what}: download kept failing")  # pragma: no cover

    def open_blob(self, repository: str, digest: Digest, offset: int) -> HttpBlob:
        """A blob download from ``offset`` (Range); the caller reads and closes it."""
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        resp = self.request(
            "GET",
            f"/v2/{repository}/blobs/{digest}",
            scope=f"repository:{repository}:pull",
            headers=headers,
            stream=True,
        )
        self.check(resp, f"{self.registry}/{repository}@{digest}")
        start = 0
        if resp.status_code == 206:
            text = resp.headers.get("Content-Range", "")
            try:
                start = int(text.split()[1].split("-", 1)[0])
            except (IndexError, ValueError):
                start = offset
        return HttpBlob(resp, start)

    def tags(self, repository: str, page_size: int = 1000) -> list[str]:
        """Every tag of ``repository``, following ``Link`` pagination."""
        scope = f"repository:{repository}:pull"
        path: str | None = f"/v2/{repository}/tags/list?n={page_size}"
        out: list[str] = []
        seen: set[str] = set()
        while path:
            if path in seen or len(seen) >= MAX_TAG_PAGES:
                raise self._fail(
                    f"{self.registry}/{repository}: the tag list's Link pages never end"
                )
            seen.add(path)
            resp = self.request("GET", path, scope=scope)
            self.check(resp, f"{self.registry}/{repository}")
            try:
                doc = resp.json()
            except ValueError as exc:
                raise self._fail(f"{self.registry}/{repository}: tag list is not JSON") from exc
            tags = doc.get("tags") if isinstance(doc, dict) else None
            if not isinstance(doc, dict) or not isinstance(tags, list | None):
                raise self._fail(f"{self.registry}/{repository}: tag list is not a tags object")
            out.extend(str(t) for t in tags or [])
            link = resp.links.get("next", {}).get("url")
            path = urljoin(self._base() + "/", link) if link else None
        return out

    def catalog(self, page_size: int = 1000) -> list[str]:
        """Every repository the registry lists (``/v2/_catalog``), following ``Link`` pagination."""
        path: str | None = f"/v2/_catalog?n={page_size}"
        out: list[str] = []
        while path:
            resp = self.request("GET", path, scope="registry:catalog:*")
            self.check(resp, f"{self.registry} catalog")
            try:
                doc = resp.json()
            except ValueError as exc:
                raise self._fail(f"{self.registry}: catalog is not JSON") from exc
            if isinstance(doc, dict):
                out.extend(str(r) for r in (doc.get("repositories") or []))
            link = resp.links.get("next", {}).get("url")
            path = urljoin(self._base() + "/", link) if link else None
        return out


class HttpBlob:
    """An open blob response: raw (undecoded) bytes from ``start``."""

    def __init__(self, resp: requests.Response, start: int) -> None:
        self._resp = resp
        self.start = start

    def read(self, size: int) -> bytes:
        data: bytes = self._resp.raw.read(size, decode_content=False)
        return data

    def close(self) -> None:
        self._resp.close()


def _describe(exc: BaseException) -> str:
    """The root cause of a network error in a few words ("Connection refused").

    requests wraps the socket error three deep (ConnectionError, MaxRetryError,
    NewConnectionError), and the outer messages repeat the URL and pool details.
    """
    timeouts = (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    if isinstance(exc, timeouts):
        return "timed out"
    chain = _chain(exc)
    cause = next((c for c in chain if isinstance(c, OSError) and c.strerror), None)
    if cause is not None and cause.strerror:  # first: urllib3's NewConnectionError is a "timeout"
        return str(cause.strerror)
    if any(isinstance(item, timeouts) for item in chain):
        return "timed out"
    for item in chain:
        if isinstance(item, http.client.IncompleteRead):
            partial: object = item.partial  # bytes (http.client) or a count (urllib3)
            got = partial if isinstance(partial, int) else len(partial)  # type: ignore[arg-type]
            more = f", {item.expected} more expected" if item.expected is not None else ""
            return f"connection closed after {got} bytes{more}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps (args, ``reason``, cause, context)."""
    seen: set[int] = set()
    out: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        linked = [*current.args, getattr(current, "reason", None)]
        linked += [current.__cause__, current.__context__]
        todo.extend(item for item in linked if isinstance(item, BaseException))
    return out
