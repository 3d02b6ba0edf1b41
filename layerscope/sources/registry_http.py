"""HTTP for one registry host: the session, its scheme, timeouts, redirects and backoff.

The transport half of the registry client (``registry_client`` speaks the registry API over
it, ``registry_authorizer`` fetches tokens over it). Nothing here knows about scopes, tokens or
endpoints; it sends a request, follows redirects, waits before a retry and names a network
error in a few words (formats.md 5b).
"""

from __future__ import annotations

import http.client
import ipaddress
import math
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import requests.utils
import urllib3
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from ..errors import ConfigError, RegistryUnavailableError
from .registry_auth import retry_after_seconds

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 5
MAX_WAIT_S = 60.0
BACKOFF_BASE_S = 0.25
MAX_REDIRECTS = 8
TIMEOUT = (15.0, 120.0)
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    urllib3.exceptions.HTTPError,
    requests.RequestException,
)
"""Errors of a request or a body read that a retry or a resume may fix."""

ENV_TIMEOUT = "LAYERSCOPE_REGISTRY_TIMEOUT"
"""Seconds to wait for a connection and for each read (default 15 s to connect, 120 s to read)."""
ENV_MAX_WAIT = "LAYERSCOPE_REGISTRY_MAX_WAIT"
"""Longest pause before one retry, Retry-After included (default 60 s)."""

Fail = Callable[[str], RegistryUnavailableError]
"""Makes the one-line "registry unavailable" error of a message (credentials scrubbed)."""


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


class HttpSession:
    """A pooled ``requests`` session to one host: scheme, redirects, timeouts, backoff."""

    def __init__(self, host: str, *, insecure: bool, pool_size: int, fail: Fail) -> None:
        self.host = host
        self.insecure = insecure
        self._fail = fail
        self._scheme: str | None = None if insecure or is_loopback(host) else "https"
        self.timeout, self.max_wait = timeouts()
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc Authorization on redirects to other hosts
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._proxies: dict[str, dict[str, str]] = {}
        """scheme://netloc -> its proxies from the environment (asked once per origin: reading
        them walks the whole environment twice, a quarter of a small request's CPU)."""
        self._pools: dict[str, urllib3.PoolManager] = {}
        """scheme -> the pools of the requests that need no proxy, form or query (see
        ``_send_direct``)."""
        self._pool_size = pool_size
        self._pools_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()
        with self._pools_lock:
            for pools in self._pools.values():
                pools.clear()

    def base(self) -> str:
        """``scheme://host``, the scheme probed once per process for plain-http-allowed hosts."""
        if self._scheme is None:
            key = (self.host, self.insecure)
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
                verify=not self.insecure,
                allow_redirects=False,
            )
            resp.close()
            return "https"
        except requests.exceptions.SSLError:
            return "http"
        except requests.RequestException:
            return "http"

    def send(
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
            proxies = self._proxies_for(url)
            if data is None and params is None and not requests.utils.select_proxy(url, proxies):
                resp = self._send_direct(method, url, headers, stream=stream)
            else:
                resp = self.session.request(
                    method,
                    url,
                    headers=headers,
                    stream=stream,
                    allow_redirects=False,
                    timeout=self.timeout,
                    verify=not self.insecure,
                    data=data,
                    params=params,
                    proxies=proxies,
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

    def _send_direct(
        self, method: str, url: str, headers: dict[str, str], *, stream: bool
    ) -> requests.Response:
        """What ``session.request`` sends and answers for a plain request with no proxy, form or
        query (every registry API request: the scan makes hundreds of small ones), straight
        through urllib3's pools: the same headers, TLS checks, timeouts and body reads, without
        the session's per-request merging of settings, cookies and hooks (two thirds of a small
        request's CPU). Errors are urllib3's, which ``TRANSIENT`` and ``describe`` know."""
        sent = CaseInsensitiveDict(_DEFAULT_HEADERS)  # as requests merges them: ours win
        sent.update(headers)
        raw = self._pool(urlsplit(url).scheme).urlopen(
            method,
            url,
            headers=sent,
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=False,
            timeout=urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1]),
        )
        resp = requests.Response()
        resp.status_code = raw.status
        resp.headers = CaseInsensitiveDict(raw.headers)
        encoding = requests.utils.get_encoding_from_headers(resp.headers)
        if encoding is not None:
            resp.encoding = encoding
        resp.raw = raw
        resp.reason = raw.reason or ""
        resp.url = url
        if not stream:
            resp.content  # noqa: B018 - read now, as session.request does without stream
        return resp

    def _pool(self, scheme: str) -> urllib3.PoolManager:
        """The pools for ``scheme``; for https, one TLS context made once (certifi's CAs, as
        ``requests`` verifies; none with ``insecure``), on first use."""
        with self._pools_lock:
            pools = self._pools.get(scheme)
            if pools is None:
                size = self._pool_size
                if scheme != "https":
                    pools = urllib3.PoolManager(num_pools=4, maxsize=size, block=False)
                elif self.insecure:
                    pools = urllib3.PoolManager(
                        num_pools=4,
                        maxsize=size,
                        block=False,
                        ssl_context=_tls_context(verify=False),
                        cert_reqs="CERT_NONE",
                        assert_hostname=False,
                    )
                else:
                    pools = urllib3.PoolManager(
                        num_pools=4,
                        maxsize=size,
                        block=False,
                        ssl_context=_tls_context(verify=True),
                    )
                self._pools[scheme] = pools
            return pools

    def _proxies_for(self, url: str) -> dict[str, str]:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        proxies = self._proxies.get(origin)
        if proxies is None:
            proxies = self._proxies[origin] = requests.utils.get_environ_proxies(url)
        return proxies

    def sleep(self, attempt: int, resp: requests.Response | None) -> None:
        """The pause before retry ``attempt + 1``: Retry-After, else jittered backoff."""
        wait = retry_after_seconds(resp.headers.get("Retry-After")) if resp is not None else None
        if wait is None:
            wait = BACKOFF_BASE_S * (2 ** (attempt - 1)) * (1 + random.random() / 2)
        time.sleep(min(wait, self.max_wait))


_DEFAULT_HEADERS = dict(requests.utils.default_headers())
"""What ``requests`` sends unless told otherwise (User-Agent, Accept, Accept-Encoding)."""


def _tls_context(*, verify: bool) -> ssl.SSLContext:
    from urllib3.util.ssl_ import create_urllib3_context

    if not verify:
        context = create_urllib3_context(cert_reqs=ssl.CERT_NONE)
        context.check_hostname = False
        return context
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.load_verify_locations(requests.utils.DEFAULT_CA_BUNDLE_PATH)
    return context


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


def describe(exc: BaseException) -> str:
    """The root cause of a network error in a few words ("Connection refused").

    requests wraps the socket error three deep (ConnectionError, MaxRetryError,
    NewConnectionError), and the outer messages repeat the URL and pool details.
    """
    timeouts = (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    # urllib3's NewConnectionError (a refused connection, raised bare by ``_send_direct``) is
    # a ConnectTimeoutError too: its cause says what happened
    refused = isinstance(exc, urllib3.exceptions.NewConnectionError)
    if isinstance(exc, timeouts) and not refused:
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
