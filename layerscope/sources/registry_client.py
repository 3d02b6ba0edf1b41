"""The registry API for the registry source: requests with auth and retries, and its endpoints.

``RegistryClient`` is what the registry source and ``scan`` talk to: manifests, blobs, tag
lists and the catalog (with ``Link`` pagination). It composes the HTTP transport
(``registry_http``: scheme, redirects, timeouts, backoff) and the Authorization of each
request (``registry_authorizer``). Only this module and ``registry_http`` import ``requests``
(formats.md 5b, 5c).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urljoin

import requests

from ..credentials import HUB_HOSTS, Credentials, scrub
from ..errors import DigestMismatchError, NotFoundError, RegistryUnavailableError
from ..model import Digest
from .registry_auth import error_summary
from .registry_authorizer import Authorizer
from .registry_http import (
    MAX_ATTEMPTS,
    RETRY_STATUSES,
    TRANSIENT,
    HttpBlob,
    HttpSession,
    describe,
)

__all__ = ["TRANSIENT", "HttpBlob", "RegistryClient"]

HUB_API_HOST = "registry-1.docker.io"
MANIFEST_ATTEMPTS = 2
"""A manifest that does not hash to its digest is fetched once more before it is an error."""
MAX_TAG_PAGES = 10_000
"""Tag-list pages followed at most (a Link header that leads back to a page is an error)."""


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
        plain = registry in insecure or self.host in insecure
        self._http = HttpSession(self.host, insecure=plain, pool_size=pool_size, fail=self._fail)
        self._auth = Authorizer(registry, credentials, self._http, self._fail)

    def close(self) -> None:
        self._http.close()

    def _fail(self, text: str) -> RegistryUnavailableError:
        return RegistryUnavailableError(scrub(text, self._auth.creds))

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
            auth = self._auth.authorization(scope)
            if auth:
                sent["Authorization"] = auth
            url = path if "://" in path else self._http.base() + path
            try:
                resp = self._http.send(method, url, sent, stream=stream)
            except TRANSIENT as exc:
                if attempt >= MAX_ATTEMPTS:
                    raise self._fail(
                        f"{self.host}: cannot reach the registry ({describe(exc)})"
                    ) from exc
                self._http.sleep(attempt, None)
                continue
            if resp.status_code == 401 and auth_rounds < 2:
                auth_rounds += 1
                header = resp.headers.get("WWW-Authenticate", "")
                resp.close()
                self._auth.authenticate(header, scope)
                continue
            if resp.status_code in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                self._http.sleep(attempt, resp)
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
            raise NotFoundError(
                scrub(f"{what}: not found in {self.registry}{detail}", self._auth.creds)
            )
        if resp.status_code in (401, 403):
            creds = self._auth.creds
            hint = "" if creds is not None else "; log in with docker login or pass credentials"
            raise self._fail(f"{what}: {self.registry} refused access{detail}{hint}")
        if resp.status_code == 429:
            raise self._fail(f"{what}: {self.registry} rate limit reached (HTTP 429){detail}")
        raise self._fail(f"{what}: {self.registry} answered HTTP {resp.status_code}{detail}")

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
                    raise self._fail(f"{what}: download kept failing ({describe(exc)})") from exc
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
        what = f"{self.registry}/{repository}"
        out: list[str] = []
        pages = self._pages(
            f"/v2/{repository}/tags/list?n={page_size}",
            scope=f"repository:{repository}:pull",
            what=what,
            not_json=f"{what}: tag list is not JSON",
            endless=f"{what}: the tag list's Link pages never end",
        )
        for doc in pages:
            tags = doc.get("tags") if isinstance(doc, dict) else None
            if not isinstance(doc, dict) or not isinstance(tags, list | None):
                raise self._fail(f"{what}: tag list is not a tags object")
            out.extend(str(t) for t in tags or [])
        return out

    def catalog(self, page_size: int = 1000) -> list[str]:
        """Every repository the registry lists (``/v2/_catalog``), following ``Link`` pagination."""
        out: list[str] = []
        pages = self._pages(
            f"/v2/_catalog?n={page_size}",
            scope="registry:catalog:*",
            what=f"{self.registry} catalog",
            not_json=f"{self.registry}: catalog is not JSON",
        )
        for doc in pages:
            if isinstance(doc, dict):
                out.extend(str(r) for r in (doc.get("repositories") or []))
        return out

    def _pages(
        self, path: str, *, scope: str, what: str, not_json: str, endless: str | None = None
    ) -> Iterator[Any]:
        """The JSON document of each page from ``path`` on, following ``Link: rel=next``.

        With ``endless`` (its error), a page seen twice or more than ``MAX_TAG_PAGES`` pages
        is an error rather than a walk that never ends.
        """
        seen: set[str] = set()
        next_path: str | None = path
        while next_path:
            if endless is not None:
                if next_path in seen or len(seen) >= MAX_TAG_PAGES:
                    raise self._fail(endless)
                seen.add(next_path)
            resp = self.request("GET", next_path, scope=scope)
            self.check(resp, what)
            try:
                doc = resp.json()
            except ValueError as exc:
                raise self._fail(not_json) from exc
            yield doc
            link = resp.links.get("next", {}).get("url")
            next_path = urljoin(self._http.base() + "/", link) if link else None
