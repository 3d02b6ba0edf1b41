"""The requests of a ``scan`` listing (tag lists, manifests, configs) and the threads they run on.

Each ``MetadataFetcher`` method is one request of ``registry_scan``'s listing: it turns what
cannot be read into a problem, so that the scan goes on without it. Manifests named by digest
and configs are asked once each however many tags name them (``_Once``), and, immutable, come
from the blob cache when it keeps them. ``OrderedWork`` runs the listing's jobs on a few
threads, the earliest repository's first, and says when each repository is complete.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..errors import ImageFormatError, LayerscopeError
from ..model import Digest
from .registry import MANIFEST_ACCEPT, _json, _kind
from .registry_blobs import BlobKeeper
from .registry_client import RegistryClient

MAX_KEPT_BYTES = 4 << 20
"""Largest config or manifest read back from the blob cache."""

V = TypeVar("V")

Problem = Callable[[str, str], None]
"""Records what could not be read: (subject, one-line message)."""


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
            # no fsync (81 of them held the listing's threads ~10 ms each): ``get`` hashes
            # what it reads back, so a file torn by a crash is fetched again
            with self._keeper.writer(digest, durable=False) as sink:
                sink.write(data)
        except (OSError, LayerscopeError):
            return


class _Once(Generic[V]):
    """Each key computed once, by the first thread that asks; the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Digest, tuple[threading.Event, list[V]]] = {}

    def get(self, key: Digest, compute: Callable[[], V]) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            mine = entry is None
            if entry is None:
                entry = self._entries[key] = (threading.Event(), [])
        if mine:
            try:
                entry[1].append(compute())
            finally:
                entry[0].set()
        else:
            entry[0].wait()
        return entry[1][0] if entry[1] else None

    def seed(self, key: Digest, value: V) -> None:
        """``value`` is known already (a tag's manifest, named by digest too)."""
        with self._lock:
            if key not in self._entries:
                done = threading.Event()
                done.set()
                self._entries[key] = (done, [value])


class MetadataFetcher:
    """One registry's catalog, tag lists, manifests and configs, from any thread."""

    def __init__(
        self, client: RegistryClient, problem: Problem, keeper: BlobKeeper | None = None
    ) -> None:
        self._client = client
        self.problem = problem
        self._store = _Kept(keeper)
        self._manifests: _Once[dict[str, Any] | None] = _Once()
        self._configs: _Once[dict[str, Any] | None] = _Once()
        self.registry = client.registry

    def catalog(self, namespace: str | None) -> list[str]:
        """Every repository of the catalog (under ``namespace``), by name."""
        repos = self._client.catalog()
        if namespace:
            prefix = namespace.strip("/") + "/"
            repos = [r for r in repos if r.startswith(prefix)]
        return sorted(set(repos))

    def tags(self, repo: str) -> list[str]:
        """The tags of ``repo`` (none, and a problem, when they cannot be listed)."""
        try:
            return self._client.tags(repo)
        except LayerscopeError as exc:
            self.problem(f"{self.registry}/{repo}", exc.message)
            return []

    def top(self, repo: str, tag: str) -> Top | None:
        """The manifest or index ``repo:tag`` names (None, and a problem, when unreadable)."""
        try:
            body, media, digest = self._client.manifest(repo, tag, MANIFEST_ACCEPT)
            doc = _json(body, f"{self.registry}/{repo}:{tag}")
            top = Top(repo, tag, digest, _kind(media, doc, tag), doc)
        except LayerscopeError as exc:
            self.problem(f"{self.registry}/{repo}:{tag}", exc.message)
            return None
        if top.kind == "manifest":
            self._manifests.seed(digest, doc)
        return top

    def manifest(self, digest: Digest, repo: str) -> dict[str, Any] | None:
        """The image manifest ``digest`` (asked in ``repo`` unless known): None when it
        cannot be read."""
        return self._manifests.get(digest, lambda: self._child_manifest(digest, repo))

    def _child_manifest(self, digest: Digest, repo: str) -> dict[str, Any] | None:
        try:
            body = self._store.get(digest)
            media = ""  # a kept manifest says what it is by its mediaType or its shape
            if body is None:
                body, media, _ = self._client.manifest(repo, digest, MANIFEST_ACCEPT)
                self._store.put(digest, body)
            doc = _json(body, f"{self.registry}/{repo}@{digest}")
            if _kind(media, doc, digest) != "manifest":
                raise ImageFormatError(f"{self.registry}/{repo}@{digest}: nested index")
            return doc
        except LayerscopeError as exc:
            self.problem(f"{self.registry}/{repo}@{digest}", exc.message)
            return None

    def config(self, digest: Digest, repo: str) -> dict[str, Any] | None:
        """The image config ``digest`` (asked in ``repo`` unless known): None when it cannot
        be read."""
        return self._configs.get(digest, lambda: self._config(digest, repo))

    def _config(self, digest: Digest, repo: str) -> dict[str, Any] | None:
        try:
            data = self._store.get(digest)
            if data is None:
                data = self._client.blob_bytes(repo, digest)
                self._store.put(digest, data)
            return _json(data, f"{self.registry}/{repo}@{digest}: image config")
        except LayerscopeError as exc:
            self.problem(f"{self.registry}/{repo}@{digest}", exc.message)
            return None


class OrderedWork:
    """Jobs in groups (a repository each) on ``threads`` daemon threads, the lowest group's
    first; a job may add jobs to its group. ``wait(group)`` returns once every job of the group
    is done (False: ``cancel`` was set). A job's unexpected error is raised by ``wait``."""

    def __init__(self, groups: int, threads: int, cancel: threading.Event | None = None) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Callable[[], None] | None]] = (
            queue.PriorityQueue()
        )
        self._open = [0] * groups
        self._done = threading.Condition()
        self._order = itertools.count()
        self._cancel = cancel or threading.Event()
        self._error: BaseException | None = None
        self._threads = threads
        for n in range(threads):
            threading.Thread(target=self._work, name=f"layerscope-list-{n}", daemon=True).start()

    def add(self, group: int, job: Callable[[], None]) -> None:
        with self._done:
            self._open[group] += 1
        self._queue.put((group, next(self._order), job))

    def _work(self) -> None:
        while True:
            group, _n, job = self._queue.get()
            if job is None:
                return
            try:
                if not self._cancel.is_set() and self._error is None:
                    job()
            except BaseException as exc:  # noqa: BLE001 - raised by wait, on the lister's thread
                self._error = self._error or exc
            finally:
                with self._done:
                    self._open[group] -= 1
                    self._done.notify_all()

    def wait(self, group: int) -> bool:
        with self._done:
            while self._open[group] and self._error is None and not self._cancel.is_set():
                self._done.wait(0.2)
        if self._error is not None:
            raise self._error
        return not self._cancel.is_set()

    def close(self) -> None:
        for _ in range(self._threads):
            self._queue.put((-1, next(self._order), None))
