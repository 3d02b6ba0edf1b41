"""A registry at once, for ``scan``: repositories, tags, manifests and configs; the merge.

``list_registry`` walks the catalog (or named repositories), tag lists and manifests on the
client, with a few threads (the requests are ``registry_scan_fetch``'s); every distinct
manifest and config is fetched once, and each image manifest is handed on as soon as its
repository is listed, so that its layers are read while the listing goes on. The layer blobs
are read by the fan-out's workers (``registry_scan_layer.read_layer``); ``image_of`` merges
their outcomes back into an Image.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..credentials import Credentials
from ..errors import ImageFormatError, LayerscopeError
from ..model import (
    Digest,
    HistoryEntry,
    Image,
    ImageConfig,
    Platform,
    SourceKind,
)
from ..platforms import is_attestation_descriptor, platform_compatible
from .assemble import LayerPart, assemble_layers
from .config import align_history, config_platform, diff_ids, history, image_config
from .manifests import INDEX_TYPES, MANIFEST_TYPES, manifest_descriptors
from .registry import (
    UNREADABLE_LAYER_TYPES,
    _annotations,
    _descriptor_platform,
)
from .registry_blobs import BlobKeeper
from .registry_client import RegistryClient
from .registry_scan_fetch import MetadataFetcher, OrderedWork, Top
from .registry_scan_layer import BlobRef, LayerOutcome

METADATA_THREADS = 8
"""Concurrent manifest and config requests while the registry is listed."""


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
    on_manifest: Callable[[ManifestInfo], None] | None = None,
    cancel: threading.Event | None = None,
) -> RegistryListing:
    """Repositories (the catalog under ``namespace``, or ``names``: (repository, tag or digest
    or None for every tag)), their tags (``tag_glob``, the ``latest`` N by creation time) and
    the image manifests they resolve to (every platform, or the one ``platform`` picks).

    The repositories are listed ``threads`` requests at a time and each is complete as soon as
    its own tags, manifests and configs are in: ``on_manifest`` is called with each image
    manifest of the listing as soon as it is known (in repository order, so that the result
    does not depend on which request answered first), while the later repositories are still
    being listed. ``cancel`` stops the listing early (what was found so far is returned).

    A repository or tag that cannot be read becomes a problem; an unreachable registry or a
    refused catalog raises. With a ``keeper`` (the blob cache), configs and manifests named by
    digest, immutable, are kept and read from there: a re-scan asks the registry only for the
    catalog, the tag lists and each tag's manifest.
    """
    client = RegistryClient(
        registry, insecure=insecure, credentials=credentials, pool_size=threads + 2
    )
    lister = _Lister(client, tag_glob, latest, platform, keeper, on_manifest)
    try:
        return lister.run(namespace, names, threads, cancel)
    finally:
        client.close()


@dataclass
class _Repo:
    """One repository being listed: its tags to resolve, and what each resolved to."""

    name: str
    listed: bool
    """Every tag (the tag list is asked), besides ``refs``."""
    refs: list[str]
    tags: list[str] = field(default_factory=list)
    found: dict[str, tuple[Top, list[Digest]]] = field(default_factory=dict)
    """tag -> its manifest or index, and the image manifests it resolves to."""


class _Lister:
    """The jobs of one listing (a repository's tag list; a tag's manifest, the image
    manifests of an index, their configs) and the merge, repository by repository."""

    def __init__(
        self,
        client: RegistryClient,
        tag_glob: str | None,
        latest: int | None,
        platform: Platform | None,
        keeper: BlobKeeper | None,
        on_manifest: Callable[[ManifestInfo], None] | None,
    ) -> None:
        self.out = RegistryListing(client.registry)
        self._lock = threading.Lock()
        self.fetch = MetadataFetcher(client, self._problem, keeper)
        self.tag_glob = tag_glob
        self.latest = latest
        self.platform = platform
        self.on_manifest = on_manifest
        self.first_repo: dict[Digest, str] = {}
        self.tried: set[Digest] = set()
        self.good: dict[Digest, ManifestInfo] = {}
        """The image manifests read, with their configs, for the wanted platform."""

    def _problem(self, subject: str, message: str) -> None:
        with self._lock:
            self.out.problems.append(ScanProblem(subject, message))

    def run(
        self,
        namespace: str | None,
        names: Sequence[tuple[str, str | None]] | None,
        threads: int,
        cancel: threading.Event | None,
    ) -> RegistryListing:
        if names is None:
            repos = [_Repo(r, True, []) for r in self.fetch.catalog(namespace)]
        else:
            by_name: dict[str, _Repo] = {}
            for name, ref in names:
                repo = by_name.setdefault(name, _Repo(name, False, []))
                if ref is None:
                    repo.listed = True
                elif ref not in repo.refs:
                    repo.refs.append(ref)
            repos = [by_name[n] for n in sorted(by_name)]
        self.out.repositories = [r.name for r in repos]
        work = OrderedWork(len(repos), threads, cancel)
        try:
            for g, repo in enumerate(repos):
                work.add(g, partial(self._tags_of, work, g, repo))
            for g, repo in enumerate(repos):
                if not work.wait(g):
                    break
                self._merge(repo)
        finally:
            work.close()
        with self._lock:
            self.out.problems.sort(key=lambda p: (p.subject, p.message))
        return self.out

    def _tags_of(self, work: OrderedWork, group: int, repo: _Repo) -> None:
        """Job: the repository's tags (its tag list, or the named ones); a job for each."""
        listed = self.fetch.tags(repo.name) if repo.listed else []
        refs = listed + [r for r in repo.refs if r not in listed]
        glob = self.tag_glob
        repo.tags = [
            t for t in sorted(set(refs)) if glob is None or ":" in t or fnmatch.fnmatchcase(t, glob)
        ]
        for tag in repo.tags:
            work.add(group, partial(self._resolve, repo, tag))

    def _resolve(self, repo: _Repo, tag: str) -> None:
        """Job: a tag's manifest or index, the image manifests it picks, and their configs."""
        top = self.fetch.top(repo.name, tag)
        if top is None:
            return
        if top.kind == "manifest":
            picked = [top.digest]
        else:
            picked = _index_entries(top.doc, self.platform)
            if not picked:
                self._problem(
                    f"{self.fetch.registry}/{repo.name}:{tag}", "no image for the wanted platform"
                )
        repo.found[tag] = (top, picked)
        for digest in picked:
            doc = self.fetch.manifest(digest, repo.name)
            config = _config_digest(doc)
            if config is not None:
                self.fetch.config(config, repo.name)

    def _merge(self, repo: _Repo) -> None:
        """A complete repository into the listing; its new image manifests handed on."""
        found = [repo.found[t] for t in repo.tags if t in repo.found]
        for _top, picked in found:
            for digest in picked:
                self.first_repo.setdefault(digest, repo.name)
        for _top, picked in found:
            for digest in picked:
                if digest not in self.tried:
                    self.tried.add(digest)
                    info = self._info(digest)
                    if info is not None:
                        self.good[digest] = info
        good = self.good
        tags = [
            TagInfo(repo.name, top.tag, top.digest, kept)
            for top, picked in found
            if (kept := tuple(d for d in picked if d in good))
        ]
        if self.latest is not None:
            tags = _latest(tags, good, self.latest)
        self.out.tags.extend(tags)
        for tag in tags:
            for digest in tag.manifests:
                if digest not in self.out.manifests:
                    self.out.manifests[digest] = good[digest]
                    if self.on_manifest is not None:
                        self.on_manifest(good[digest])

    def _info(self, digest: Digest) -> ManifestInfo | None:
        """The manifest (where it was first seen) with its config, for the wanted platform."""
        registry, repo = self.fetch.registry, self.first_repo[digest]
        doc = self.fetch.manifest(digest, repo)
        if doc is None:
            return None
        config = _config_digest(doc)
        configs = {config: self.fetch.config(config, repo)} if config is not None else {}
        try:
            info = _manifest_info(registry, repo, digest, doc, configs)
        except LayerscopeError as exc:
            self._problem(f"{registry}/{repo}@{digest}", exc.message)
            return None
        wanted = self.platform
        if info is None or (wanted is not None and not platform_compatible(wanted, info.platform)):
            return None
        return info


def _config_digest(doc: dict[str, Any] | None) -> Digest | None:
    cfg = doc.get("config") if doc is not None else None
    if isinstance(cfg, dict) and isinstance(cfg.get("digest"), str):
        return Digest(cfg["digest"])
    return None


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
    parts = []
    for blob in info.layers:
        read = contents[blob.digest]
        assert read.contents is not None
        parts.append(
            LayerPart(
                blob.diff_id,
                blob.digest,
                blob.media_type,
                blob.size,
                read.contents,
                read.compression,
            )
        )
    layers = assemble_layers(parts, align_history(info.history, len(info.layers)))
    name = f"{info.registry}/{info.repository}"
    return Image(
        ref=f"registry://{name}@{info.manifest_digest}",
        image_id=info.config_digest,
        platform=info.platform,
        created=info.created,
        config=info.config,
        history=info.history,
        layers=layers,
        repo_tags=tuple(f"{name}:{t}" for t in tags),
        annotations=info.annotations,
        source=SourceKind.REGISTRY,
        manifest_digest=info.manifest_digest,
    )
