"""A registry at once, for ``scan``: repositories, tags, manifests and configs; one layer blob.

``list_registry`` walks the catalog (or named repositories), tag lists and manifests on the
client, with a few threads; every distinct manifest and config is fetched once. ``read_layer``
reads one layer blob and is what the fan-out runs, in worker processes or on Dask workers: a
plain top-level function of picklable arguments that never raises (a failure is its answer).
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..credentials import Credentials
from ..errors import ImageFormatError, LayerscopeError
from ..model import (
    Digest,
    HistoryEntry,
    Image,
    ImageConfig,
    Layer,
    LayerContents,
    Platform,
    SourceKind,
)
from ..platforms import is_attestation_descriptor, platform_compatible
from .config import align_history, config_platform, diff_ids, history, image_config
from .manifests import INDEX_TYPES, MANIFEST_TYPES, manifest_descriptors
from .registry import (
    MANIFEST_ACCEPT,
    UNREADABLE_LAYER_TYPES,
    _annotations,
    _descriptor_platform,
    _json,
    _kind,
)
from .registry_blobs import BlobKeeper, LayerJob, pull_layer
from .registry_client import TRANSIENT, RegistryClient

MAX_KEPT_BYTES = 4 << 20
"""Largest config or manifest read back from the blob cache."""
METADATA_THREADS = 8
"""Concurrent manifest and config requests while the registry is listed."""

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class BlobRef:
    """One layer of a manifest: its blob and what the config says it unpacks to."""

    digest: Digest
    size: int
    diff_id: Digest
    media_type: str | None


@dataclass(frozen=True, slots=True)
class ManifestInfo:
    """One image manifest (one platform) with its config read."""

    registry: str
    repository: str
    """Where it was first seen (blobs are fetched from there)."""
    manifest_digest: Digest
    config_digest: Digest
    platform: Platform
    created: str | None
    config: ImageConfig
    history: tuple[HistoryEntry, ...]
    layers: tuple[BlobRef, ...]
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TagInfo:
    """A tag and the image manifests it resolves to (one per platform of an index)."""

    repository: str
    tag: str
    digest: Digest
    manifests: tuple[Digest, ...]


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """Something the scan could not read; it went on without it."""

    subject: str
    message: str


@dataclass
class RegistryListing:
    """What ``list_registry`` found."""

    registry: str
    repositories: list[str] = field(default_factory=list)
    tags: list[TagInfo] = field(default_factory=list)
    manifests: dict[Digest, ManifestInfo] = field(default_factory=dict)
    problems: list[ScanProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LayerTask:
    """What a worker needs to read one layer blob (picklable)."""

    registry: str
    repository: str
    blob: BlobRef
    insecure: tuple[str, ...] = ()
    credentials: Credentials | None = None


@dataclass(frozen=True, slots=True)
class LayerOutcome:
    """A worker's answer: the layer's contents, or why it could not be read."""

    digest: Digest
    diff_id: Digest
    contents: LayerContents | None
    compression: str
    bytes_read: int
    error: str | None = None


def _parallel(work: Callable[[T], R], items: Iterable[T], threads: int) -> list[R]:
    todo = list(items)
    if len(todo) <= 1:
        return [work(item) for item in todo]
    with ThreadPoolExecutor(max_workers=min(threads, len(todo))) as pool:
        return list(pool.map(work, todo))


def list_registry(
    registry: str,
    *,
    namespace: str | None = None,
    names: Sequence[tuple[str, str | None]] | None = None,
    tag_glob: str | None = None,
    latest: int | None = None,
    platform: Platform | None = None,
    insecure: Sequence[str] = (),
    credentials: Credentials | None = None,
    threads: int = METADATA_THREADS,
    keeper: BlobKeeper | None = None,
) -> RegistryListing:
    """Repositories (the catalog under ``namespace``, or ``names``: (repository, tag or digest
    or None for every tag)), their tags (``tag_glob``, the ``latest`` N by creation time) and
    the image manifests they resolve to (every platform, or the one ``platform`` picks).

    A repository or tag that cannot be read becomes a problem; an unreachable registry or a
    refused catalog raises. With a ``keeper`` (the blob cache), configs and manifests named by
    digest, immutable, are kept and read from there: a re-scan asks the registry only for the
    catalog, the tag lists and each tag's manifest.
    """
    client = RegistryClient(
        registry, insecure=insecure, credentials=credentials, pool_size=threads + 2
    )
    try:
        return _list(client, namespace, names, tag_glob, latest, platform, threads, keeper)
    finally:
        client.close()


def _list(
    client: RegistryClient,
    namespace: str | None,
    names: Sequence[tuple[str, str | None]] | None,
    tag_glob: str | None,
    latest: int | None,
    platform: Platform | None,
    threads: int,
    keeper: BlobKeeper | None = None,
) -> RegistryListing:
    out = RegistryListing(client.registry)
    store = _Kept(keeper)
    lock = threading.Lock()

    def problem(subject: str, message: str) -> None:
        with lock:
            out.problems.append(ScanProblem(subject, message))

    wanted: list[tuple[str, list[str]]] = []
    if names is None:
        repos = client.catalog()
        if namespace:
            prefix = namespace.strip("/") + "/"
            repos = [r for r in repos if r.startswith(prefix)]

        def tags_of(repo: str) -> tuple[str, list[str]]:
            try:
                return repo, client.tags(repo)
            except LayerscopeError as exc:
                problem(f"{client.registry}/{repo}", exc.message)
                return repo, []

        wanted = _parallel(tags_of, sorted(set(repos)), threads)
    else:
        by_repo: dict[str, list[str]] = {}
        for repo, ref in names:
            listed = by_repo.setdefault(repo, [])
            if ref is None:
                try:
                    listed.extend(client.tags(repo))
                except LayerscopeError as exc:
                    problem(f"{client.registry}/{repo}", exc.message)
            elif ref not in listed:
                listed.append(ref)
        wanted = sorted(by_repo.items())
    out.repositories = [repo for repo, _tags in wanted]
    pairs = [
        (repo, tag)
        for repo, tags in wanted
        for tag in sorted(set(tags))
        if tag_glob is None or ":" in tag or fnmatch.fnmatchcase(tag, tag_glob)
    ]

    # 1. every tag's manifest or index
    def top(pair: tuple[str, str]) -> tuple[str, str, Digest, dict[str, Any]] | None:
        repo, tag = pair
        try:
            body, media, digest = client.manifest(repo, tag, MANIFEST_ACCEPT)
            doc = _json(body, f"{client.registry}/{repo}:{tag}")
            return repo, tag, digest, {"kind": _kind(media, doc, tag), "doc": doc}
        except LayerscopeError as exc:
            problem(f"{client.registry}/{repo}:{tag}", exc.message)
            return None

    tops = [t for t in _parallel(top, pairs, threads) if t is not None]
    # 2. the image manifests of indexes, each digest once
    children: dict[Digest, tuple[str, dict[str, Any] | None]] = {}
    resolved: dict[tuple[str, str], list[Digest]] = {}
    for repo, tag, digest, parsed in tops:
        if parsed["kind"] == "manifest":
            children.setdefault(digest, (repo, parsed["doc"]))
            resolved[(repo, tag)] = [digest]
            continue
        picked = _index_entries(parsed["doc"], platform)
        if not picked:
            problem(f"{client.registry}/{repo}:{tag}", "no image for the wanted platform")
        resolved[(repo, tag)] = picked
        for child in picked:
            children.setdefault(child, (repo, None))

    def child_manifest(item: tuple[Digest, str]) -> tuple[Digest, dict[str, Any] | None]:
        digest, repo = item
        try:
            body = store.get(digest)
            media = ""  # a kept manifest says what it is by its mediaType or its shape
            if body is None:
                body, media, _ = client.manifest(repo, digest, MANIFEST_ACCEPT)
                store.put(digest, body)
            doc = _json(body, f"{client.registry}/{repo}@{digest}")
            if _kind(media, doc, digest) != "manifest":
                raise ImageFormatError(f"{client.registry}/{repo}@{digest}: nested index")
            return digest, doc
        except LayerscopeError as exc:
            problem(f"{client.registry}/{repo}@{digest}", exc.message)
            return digest, None

    missing = [(d, repo) for d, (repo, doc) in children.items() if doc is None]
    fetched = dict(_parallel(child_manifest, missing, threads))
    docs = {d: (repo, fetched.get(d, doc)) for d, (repo, doc) in children.items()}
    # 3. the configs, each digest once
    configs: dict[Digest, str] = {}
    for _d, (repo, doc) in docs.items():
        if doc is not None:
            cfg = doc.get("config")
            if isinstance(cfg, dict) and isinstance(cfg.get("digest"), str):
                configs.setdefault(Digest(cfg["digest"]), repo)

    def config_of(item: tuple[Digest, str]) -> tuple[Digest, dict[str, Any] | None]:
        digest, repo = item
        try:
            data = store.get(digest)
            if data is None:
                data = client.blob_bytes(repo, digest)
                store.put(digest, data)
            return digest, _json(data, f"{client.registry}/{repo}@{digest}: image config")
        except LayerscopeError as exc:
            problem(f"{client.registry}/{repo}@{digest}", exc.message)
            return digest, None

    config_docs = dict(_parallel(config_of, list(configs.items()), threads))
    for digest, (repo, doc) in docs.items():
        if doc is None:
            continue
        try:
            info = _manifest_info(client.registry, repo, digest, doc, config_docs)
        except LayerscopeError as exc:
            problem(f"{client.registry}/{repo}@{digest}", exc.message)
            continue
        if info is not None and (platform is None or platform_compatible(platform, info.platform)):
            out.manifests[digest] = info
    for repo, tag, digest, _parsed in tops:
        kept = tuple(d for d in resolved[(repo, tag)] if d in out.manifests)
        if kept:
            out.tags.append(TagInfo(repo, tag, digest, kept))
    if latest is not None:
        out.tags = _latest(out.tags, out.manifests, latest)
    used = {d for t in out.tags for d in t.manifests}
    out.manifests = {d: m for d, m in out.manifests.items() if d in used}
    return out


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


def _index_entries(doc: dict[str, Any], wanted: Platform | None) -> list[Digest]:
    """The image manifests of an index: every platform, or the best match for ``wanted``."""
    found: list[tuple[Platform | None, Digest]] = []
    for desc in doc.get("manifests") or []:
        if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
            continue
        media = desc.get("mediaType")
        if media is not None and media not in MANIFEST_TYPES | INDEX_TYPES:
            continue
        plat = _descriptor_platform(desc)
        if is_attestation_descriptor(plat, dict(_annotations(desc))):
            continue
        found.append((plat, Digest(desc["digest"])))
    if wanted is None:
        return [d for _p, d in found]
    matching = [d for p, d in found if p is None or platform_compatible(wanted, p)]
    return matching[:1]


def _manifest_info(
    registry: str,
    repo: str,
    digest: Digest,
    doc: dict[str, Any],
    configs: dict[Digest, dict[str, Any] | None],
) -> ManifestInfo | None:
    what = f"{registry}/{repo}@{digest}"
    config_digest, descs = manifest_descriptors(doc, f"{what}: manifest")
    config = configs.get(config_digest)
    if config is None:
        return None
    ids = diff_ids(config, what)
    if len(ids) != len(descs):
        raise ImageFormatError(
            f"{what}: config lists {len(ids)} diff_ids but the manifest has {len(descs)} layers"
        )
    blobs = []
    for i, (desc, diff_id) in enumerate(zip(descs, ids, strict=True)):
        media = desc.get("mediaType") if isinstance(desc.get("mediaType"), str) else None
        if media is not None and (media in UNREADABLE_LAYER_TYPES or "encrypted" in media):
            raise ImageFormatError(f"{what}: layer {i} has media type {media}")
        size = desc.get("size")
        blobs.append(
            BlobRef(
                Digest(desc["digest"]),
                size if isinstance(size, int) and size >= 0 else 0,
                diff_id,
                media,
            )
        )
    created = config.get("created")
    return ManifestInfo(
        registry=registry,
        repository=repo,
        manifest_digest=digest,
        config_digest=config_digest,
        platform=config_platform(config),
        created=created if isinstance(created, str) else None,
        config=image_config(config.get("config") or {}),
        history=history(config),
        layers=tuple(blobs),
        annotations=_annotations(doc),
    )


def _latest(tags: list[TagInfo], manifests: dict[Digest, ManifestInfo], n: int) -> list[TagInfo]:
    """The ``n`` newest tags of each repository (by the image's creation time, then name)."""
    by_repo: dict[str, list[TagInfo]] = {}
    for tag in tags:
        by_repo.setdefault(tag.repository, []).append(tag)
    kept: list[TagInfo] = []
    for repo_tags in by_repo.values():

        def newest(t: TagInfo) -> str:
            return max((manifests[d].created or "" for d in t.manifests), default="")

        repo_tags.sort(key=lambda t: (newest(t), t.tag), reverse=True)
        kept.extend(repo_tags[:n])
    return kept


def image_of(
    info: ManifestInfo, tags: Sequence[str], contents: dict[Digest, LayerOutcome]
) -> Image:
    """The Image of a manifest whose every layer was read (``contents`` by blob digest)."""
    per_layer = align_history(info.history, len(info.layers))
    layers = []
    for i, blob in enumerate(info.layers):
        read = contents[blob.digest]
        assert read.contents is not None
        layers.append(
            Layer(
                index=i,
                diff_id=blob.diff_id,
                digest=blob.digest,
                media_type=blob.media_type,
                compressed_size_bytes=blob.size,
                size_bytes=read.contents.size_bytes,
                tar_size_bytes=read.contents.tar_size_bytes,
                history=per_layer[i],
                entries=read.contents.entries,
                compression=read.compression,
                contents=read.contents.contents,
            )
        )
    name = f"{info.registry}/{info.repository}"
    return Image(
        ref=f"registry://{name}@{info.manifest_digest}",
        image_id=info.config_digest,
        platform=info.platform,
        created=info.created,
        config=info.config,
        history=info.history,
        layers=tuple(layers),
        repo_tags=tuple(f"{name}:{t}" for t in tags),
        annotations=info.annotations,
        source=SourceKind.REGISTRY,
        manifest_digest=info.manifest_digest,
    )


# --- the worker side ------------------------------------------------------------------------

_CLIENTS: dict[tuple[str, tuple[str, ...], Credentials | None], RegistryClient] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(task: LayerTask) -> RegistryClient:
    key = (task.registry, task.insecure, task.credentials)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = RegistryClient(
                task.registry, insecure=task.insecure, credentials=task.credentials
            )
            _CLIENTS[key] = client
        return client


def read_layer(task: LayerTask) -> LayerOutcome:
    """Download and read one layer blob (verified against its digest and diff_id).

    Never raises for a layer that cannot be read: the outcome carries the one-line reason.
    Registry clients are kept per process, so one worker reuses its connections and tokens.
    """
    blob = task.blob
    label = f"{task.registry}/{task.repository}@{blob.digest}"
    read = [0]

    def advance(n: int) -> None:
        read[0] += n

    try:
        client = _client(task)
        scan = pull_layer(
            LayerJob(0, blob.digest, blob.size or None, blob.diff_id, label),
            lambda digest, offset: client.open_blob(task.repository, digest, offset),
            transient=TRANSIENT,
            advance=advance,
        )
    except LayerscopeError as exc:
        return LayerOutcome(blob.digest, blob.diff_id, None, "none", read[0], exc.message)
    except Exception as exc:  # noqa: BLE001 - a worker answers, it does not crash the scan
        return LayerOutcome(
            blob.digest,
            blob.diff_id,
            None,
            "none",
            read[0],
            f"{label}: {type(exc).__name__}: {exc}",
        )
    contents = LayerContents(scan.entries, scan.size_bytes, scan.tar_size_bytes, scan.contents)
    return LayerOutcome(blob.digest, blob.diff_id, contents, scan.compression, read[0])
