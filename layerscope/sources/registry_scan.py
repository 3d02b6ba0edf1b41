"""A registry at once, for ``scan``: repositories, tags, manifests and configs; the merge.

``list_registry`` walks the catalog (or named repositories), tag lists and manifests on the
client, with a few threads (the requests are ``registry_scan_fetch``'s); every distinct
manifest and config is fetched once. The layer blobs are read by the fan-out's workers
(``registry_scan_layer.read_layer``); ``image_of`` merges their outcomes back into an Image.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
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
from .registry_scan_fetch import MetadataFetcher, Problem, Top
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
    lock = threading.Lock()

    def problem(subject: str, message: str) -> None:
        with lock:
            out.problems.append(ScanProblem(subject, message))

    fetch = MetadataFetcher(client, problem, threads, keeper)
    wanted = fetch.catalog_tags(namespace) if names is None else fetch.named_tags(names)
    out.repositories = [repo for repo, _tags in wanted]
    tops = fetch.tops(_pairs(wanted, tag_glob))  # 1. every tag's manifest or index
    resolved, docs = _image_manifests(fetch, tops, platform)  # 2. image manifests, once each
    configs = fetch.configs(_config_digests(docs))  # 3. the configs, each digest once
    out.manifests = _infos(client.registry, docs, configs, platform, problem)
    out.tags = _tag_infos(tops, resolved, out.manifests)
    if latest is not None:
        out.tags = _latest(out.tags, out.manifests, latest)
    used = {d for t in out.tags for d in t.manifests}
    out.manifests = {d: m for d, m in out.manifests.items() if d in used}
    return out


Docs = dict[Digest, tuple[str, dict[str, Any] | None]]
"""Image manifests by digest: the repository they were first seen in, and the parsed
manifest (None when it could not be read)."""


def _pairs(wanted: list[tuple[str, list[str]]], tag_glob: str | None) -> list[tuple[str, str]]:
    """(repository, tag or digest) to resolve: each once, the tags ``tag_glob`` matches."""
    return [
        (repo, tag)
        for repo, tags in wanted
        for tag in sorted(set(tags))
        if tag_glob is None or ":" in tag or fnmatch.fnmatchcase(tag, tag_glob)
    ]


def _image_manifests(
    fetch: MetadataFetcher, tops: list[Top], platform: Platform | None
) -> tuple[dict[tuple[str, str], list[Digest]], Docs]:
    """The image manifests each tag resolves to, and every one of them (fetched once each):
    a tag's own manifest, or the entries of its index that ``platform`` picks."""
    children: Docs = {}
    resolved: dict[tuple[str, str], list[Digest]] = {}
    for top in tops:
        repo, tag = top.repository, top.tag
        if top.kind == "manifest":
            children.setdefault(top.digest, (repo, top.doc))
            resolved[(repo, tag)] = [top.digest]
            continue
        picked = _index_entries(top.doc, platform)
        if not picked:
            fetch.problem(f"{fetch.registry}/{repo}:{tag}", "no image for the wanted platform")
        resolved[(repo, tag)] = picked
        for child in picked:
            children.setdefault(child, (repo, None))
    missing = [(d, repo) for d, (repo, doc) in children.items() if doc is None]
    fetched = fetch.manifests(missing)
    return resolved, {d: (repo, fetched.get(d, doc)) for d, (repo, doc) in children.items()}


def _config_digests(docs: Docs) -> list[tuple[Digest, str]]:
    """(config digest, repository to fetch it from) of the manifests read, each digest once."""
    configs: dict[Digest, str] = {}
    for _d, (repo, doc) in docs.items():
        if doc is not None:
            cfg = doc.get("config")
            if isinstance(cfg, dict) and isinstance(cfg.get("digest"), str):
                configs.setdefault(Digest(cfg["digest"]), repo)
    return list(configs.items())


def _infos(
    registry: str,
    docs: Docs,
    configs: dict[Digest, dict[str, Any] | None],
    platform: Platform | None,
    problem: Problem,
) -> dict[Digest, ManifestInfo]:
    """The manifests whose config was read, for the wanted platform."""
    out: dict[Digest, ManifestInfo] = {}
    for digest, (repo, doc) in docs.items():
        if doc is None:
            continue
        try:
            info = _manifest_info(registry, repo, digest, doc, configs)
        except LayerscopeError as exc:
            problem(f"{registry}/{repo}@{digest}", exc.message)
            continue
        if info is not None and (platform is None or platform_compatible(platform, info.platform)):
            out[digest] = info
    return out


def _tag_infos(
    tops: list[Top],
    resolved: dict[tuple[str, str], list[Digest]],
    manifests: dict[Digest, ManifestInfo],
) -> list[TagInfo]:
    """Each tag with the manifests it resolves to that were read (a tag with none is left out)."""
    out: list[TagInfo] = []
    for top in tops:
        kept = tuple(d for d in resolved[(top.repository, top.tag)] if d in manifests)
        if kept:
            out.append(TagInfo(top.repository, top.tag, top.digest, kept))
    return out


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
