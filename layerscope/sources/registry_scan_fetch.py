"""The requests of a ``scan`` listing: tag lists, manifests and configs, a few at a time.

Each method is one step of ``registry_scan``'s listing: it asks the registry (with a few
threads) and turns what cannot be read into a problem, so that the scan goes on without it.
Manifests named by digest and configs, immutable, come from the blob cache when it keeps them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import ImageFormatError, LayerscopeError
from ..model import Digest
from .registry import MANIFEST_ACCEPT, _json, _kind
from .registry_blobs import BlobKeeper
from .registry_client import RegistryClient

MAX_KEPT_BYTES = 4 << 20
"""Largest config or manifest read back from the blob cache."""

T = TypeVar("T")
R = TypeVar("R")

Problem = Callable[[str, str], None]
"""Records what could not be read: (subject, one-line message)."""


def _parallel(work: Callable[[T], R], items: Iterable[T], threads: int) -> list[R]:
    todo = list(items)
    if len(todo) <= 1:
        return [work(item) for item in todo]
    with ThreadPoolExecutor(max_workers=min(threads, len(todo))) as pool:
        return list(pool.map(work, todo))


@dataclass(frozen=True, slots=True)
class Top:
    """What a tag names: its manifest or index, parsed."""

    repository: str
    tag: str
    digest: Digest
    kind: str
    """``manifest`` or ``index``."""
    doc: dict[str, Any]


class _Kept:
    """Small content-addressed documents in the blob cache; trouble there only costs a fetch."""

    def __init__(self, keeper: BlobKeeper | None) -> None:
        self._keeper = keeper

    def get(self, digest: Digest) -> bytes | None:
        if self._keeper is None or not digest.startswith("sha256:"):
            return None
        try:
            handle = self._keeper.open(digest)
            if handle is None:
                return None
            with handle:
                data = handle.read(MAX_KEPT_BYTES + 1)
        except (OSError, LayerscopeError):
            return None
        if len(data) > MAX_KEPT_BYTES or "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            return None
        return data

    def put(self, digest: Digest, data: bytes) -> None:
        if self._keeper is None or not digest.startswith("sha256:"):
            return
        try:
            with self._keeper.writer(digest) as sink:
                sink.write(data)
        except (OSError, LayerscopeError):
            return


class MetadataFetcher:
    """One registry's tag lists, manifests and configs for a listing, ``threads`` at a time."""

    def __init__(
        self,
        client: RegistryClient,
        problem: Problem,
        threads: int,
        keeper: BlobKeeper | None = None,
    ) -> None:
        self._client = client
        self.problem = problem
        self._threads = threads
        self._store = _Kept(keeper)
        self.registry = client.registry

    def catalog_tags(self, namespace: str | None) -> list[tuple[str, list[str]]]:
        """Every repository of the catalog (under ``namespace``) and its tags, by name."""
        repos = self._client.catalog()
        if namespace:
            prefix = namespace.strip("/") + "/"
            repos = [r for r in repos if r.startswith(prefix)]

        def tags_of(repo: str) -> tuple[str, list[str]]:
            try:
                return repo, self._client.tags(repo)
            except LayerscopeError as exc:
                self.problem(f"{self.registry}/{repo}", exc.message)
                return repo, []

        return _parallel(tags_of, sorted(set(repos)), self._threads)

    def named_tags(self, names: Sequence[tuple[str, str | None]]) -> list[tuple[str, list[str]]]:
        """The named repositories with their named references (every tag where None), by name."""
        by_repo: dict[str, list[str]] = {}
        for repo, ref in names:
            listed = by_repo.setdefault(repo, [])
            if ref is None:
                try:
                    listed.extend(self._client.tags(repo))
                except LayerscopeError as exc:
                    self.problem(f"{self.registry}/{repo}", exc.message)
            elif ref not in listed:
                listed.append(ref)
        return sorted(by_repo.items())

    def tops(self, pairs: Sequence[tuple[str, str]]) -> list[Top]:
        """The manifest or index of each (repository, tag), in order; unreadable ones left out."""

        def top(pair: tuple[str, str]) -> Top | None:
            repo, tag = pair
            try:
                body, media, digest = self._client.manifest(repo, tag, MANIFEST_ACCEPT)
                doc = _json(body, f"{self.registry}/{repo}:{tag}")
                return Top(repo, tag, digest, _kind(media, doc, tag), doc)
            except LayerscopeError as exc:
                self.problem(f"{self.registry}/{repo}:{tag}", exc.message)
                return None

        return [t for t in _parallel(top, pairs, self._threads) if t is not None]

    def manifests(
        self, wanted: Sequence[tuple[Digest, str]]
    ) -> dict[Digest, dict[str, Any] | None]:
        """The image manifests named by (digest, repository): None for one that cannot be read."""

        def child_manifest(item: tuple[Digest, str]) -> tuple[Digest, dict[str, Any] | None]:
            digest, repo = item
            try:
                body = self._store.get(digest)
                media = ""  # a kept manifest says what it is by its mediaType or its shape
                if body is None:
                    body, media, _ = self._client.manifest(repo, digest, MANIFEST_ACCEPT)
                    self._store.put(digest, body)
                doc = _json(body, f"{self.registry}/{repo}@{digest}")
                if _kind(media, doc, digest) != "manifest":
                    raise ImageFormatError(f"{self.registry}/{repo}@{digest}: nested index")
                return digest, doc
            except LayerscopeError as exc:
                self.problem(f"{self.registry}/{repo}@{digest}", exc.message)
                return digest, None

        return dict(_parallel(child_manifest, wanted, self._threads))

    def configs(self, wanted: Sequence[tuple[Digest, str]]) -> dict[Digest, dict[str, Any] | None]:
        """The image configs named by (digest, repository): None for one that cannot be read."""

        def config_of(item: tuple[Digest, str]) -> tuple[Digest, dict[str, Any] | None]:
            digest, repo = item
            try:
                data = self._store.get(digest)
                if data is None:
                    data = self._client.blob_bytes(repo, digest)
                    self._store.put(digest, data)
                return digest, _json(data, f"{self.registry}/{repo}@{digest}: image config")
            except LayerscopeError as exc:
                self.problem(f"{self.registry}/{repo}@{digest}", exc.message)
                return digest, None

        return dict(_parallel(config_of, wanted, self._threads))
