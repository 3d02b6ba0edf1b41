"""Load an image from a registry over the Distribution API v2, without a daemon.

Manifests and indexes of all four media types, platform selection, token and basic auth
(``registry_client``), layer blobs streamed into the layer reader while they download and verified
(``registry_blobs``). Layers the layer index already knows are not downloaded at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..credentials import Credentials
from ..errors import ImageFormatError, NotFoundError
from ..layers import LayerScan
from ..model import Digest, Image, ImageRef, LayerContents, LayerIndex, Platform, SourceKind
from ..platforms import is_attestation_descriptor, select_platform
from ..refs import split_name
from .assemble import LayerPart, assemble_image
from .config import check_config_platform, check_layer_count, diff_ids
from .context import LoadContext
from .manifests import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    SCHEMA1_TYPES,
    manifest_descriptors,
)
from .registry_blobs import LayerJob, pull_layers
from .registry_client import TRANSIENT, RegistryClient

NAME = "registry"
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))
MAX_INDEX_DEPTH = 4
UNREADABLE_LAYER_TYPES = ("application/vnd.in-toto+json",)


def load(ref: ImageRef, ctx: LoadContext | None = None) -> Image:
    """Pull the image ``ref`` names (``ref.location`` is a normalised name) and read its layers.

    ``ctx.credentials`` None means: look them up (environment, Docker config, helpers) if the
    registry asks. ``ctx.insecure_registries`` names hosts that may use plain HTTP or unverified
    TLS (loopback hosts may always fall back to HTTP).
    """
    ctx = ctx or LoadContext()
    registry, repository, tag, digest = split_name(ref.location)
    client = RegistryClient(
        registry,
        insecure=ctx.insecure_registries,
        credentials=ctx.credentials,
        pool_size=max(4, ctx.concurrency + 2),
    )
    try:
        return _load(client, ref, repository, tag, digest, ctx)
    finally:
        client.close()


def list_tags(
    name: str,
    *,
    insecure: Sequence[str] = (),
    credentials: Credentials | None = None,
) -> list[str]:
    """The tags of repository ``name`` (any tag or digest in ``name`` is ignored), in order."""
    registry, repository, _tag, _digest = split_name(name)
    client = RegistryClient(registry, insecure=insecure, credentials=credentials)
    try:
        return client.tags(repository)
    finally:
        client.close()


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageFormatError(f"{what}: not valid JSON") from exc
    if not isinstance(doc, dict):
        raise ImageFormatError(f"{what}: not a JSON object")
    return doc


def _kind(media: str, doc: dict[str, Any], what: str) -> str:
    """'index' or 'manifest', from the body's mediaType, else Content-Type, else its shape."""
    declared = doc.get("mediaType")
    for candidate in (declared, media):
        if candidate in SCHEMA1_TYPES:
            raise ImageFormatError(f"{what}: schema 1 manifests are not supported")
        if candidate in INDEX_TYPES:
            return "index"
        if candidate in MANIFEST_TYPES:
            return "manifest"
    if doc.get("schemaVersion") == 1:
        raise ImageFormatError(f"{what}: schema 1 manifests are not supported")
    if isinstance(doc.get("manifests"), list):
        return "index"
    if isinstance(doc.get("config"), dict) and isinstance(doc.get("layers"), list):
        return "manifest"
    raise ImageFormatError(f"{what}: unsupported manifest type {declared or media or 'unknown'}")


def _descriptor_platform(desc: dict[str, Any]) -> Platform | None:
    plat = desc.get("platform")
    if not isinstance(plat, dict) or not plat.get("os") or not plat.get("architecture"):
        return None
    return Platform(str(plat["os"]), str(plat["architecture"]), plat.get("variant") or None)


def _annotations(desc: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    ann = desc.get("annotations")
    if not isinstance(ann, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in ann.items()))


def _pick(doc: dict[str, Any], wanted: Platform | None, what: str) -> dict[str, Any]:
    entries = [d for d in doc.get("manifests") or [] if isinstance(d, dict)]
    candidates = [
        (_descriptor_platform(d), d)
        for d in entries
        if isinstance(d.get("digest"), str)
        and (d.get("mediaType") is None or d.get("mediaType") in MANIFEST_TYPES | INDEX_TYPES)
    ]
    try:
        return select_platform(
            candidates,
            wanted,
            is_attestation=lambda d: is_attestation_descriptor(
                _descriptor_platform(d), dict(_annotations(d))
            ),
        )
    except NotFoundError as exc:
        raise NotFoundError(f"{what}: {exc}") from exc


def _resolve_manifest(
    client: RegistryClient, repository: str, reference: str, wanted: Platform | None, what: str
) -> tuple[dict[str, Any], Digest, bool]:
    """Follow indexes down to one image manifest: (manifest JSON, its digest, via an index)."""
    for depth in range(MAX_INDEX_DEPTH):
        body, media, digest = client.manifest(repository, reference, MANIFEST_ACCEPT)
        doc = _json(body, f"{what}: manifest {digest}")
        if _kind(media, doc, what) == "manifest":
            return doc, digest, depth > 0
        reference = str(_pick(doc, wanted, what)["digest"])
    raise ImageFormatError(f"{what}: image indexes nested too deeply")


def _compression_of(media_type: str | None) -> str:
    media = media_type or ""
    if media.endswith(("gzip", "+gzip")):
        return "gzip"
    if media.endswith(("zstd", "+zstd")):
        return "zstd"
    return "none"


def _load(
    client: RegistryClient,
    ref: ImageRef,
    repository: str,
    tag: str | None,
    digest: str | None,
    ctx: LoadContext,
) -> Image:
    what = str(ref)
    manifest, manifest_digest, via_index = _resolve_manifest(
        client, repository, digest or tag or "latest", ctx.platform, what
    )
    config_digest, descs = manifest_descriptors(manifest, f"{what}: manifest {manifest_digest}")
    config = _json(client.blob_bytes(repository, config_digest), f"{what}: image config")
    if not via_index:  # an index already chose by platform; a lone manifest has not
        check_config_platform(config, ctx.platform, what)
    ids = diff_ids(config, what)
    check_layer_count(ids, len(descs), what)
    known, jobs = _layer_jobs(descs, ids, ctx.index, what)
    pulled = pull_layers(
        list(jobs.values()),
        lambda d, offset: client.open_blob(repository, d, offset),
        concurrency=ctx.concurrency,
        index=ctx.index,
        progress=ctx.progress,
        transient=TRANSIENT,
        keeper=ctx.blob_cache,
    )
    parts = [_part(desc, diff_id, pulled, known) for desc, diff_id in zip(descs, ids, strict=True)]
    name = f"{client.registry}/{repository}"
    return assemble_image(
        config,
        parts,
        ref=str(ref),
        image_id=config_digest,
        source=SourceKind.REGISTRY,
        repo_tags=(f"{name}:{tag}",) if tag else (),
        annotations=_annotations(manifest),
        manifest_digest=manifest_digest,
    )


def _layer_jobs(
    descs: list[dict[str, Any]], ids: list[Digest], index: LayerIndex | None, what: str
) -> tuple[dict[Digest, LayerContents], dict[Digest, LayerJob]]:
    """The layers the cache knows (by diff_id) and the blobs to pull (once each)."""
    known: dict[Digest, LayerContents] = {}
    jobs: dict[Digest, LayerJob] = {}
    for i, (desc, diff_id) in enumerate(zip(descs, ids, strict=True)):
        media = desc.get("mediaType")
        if isinstance(media, str) and (media in UNREADABLE_LAYER_TYPES or "encrypted" in media):
            raise ImageFormatError(
                f"{what}: layer {i} has media type {media}, not a readable layer"
            )
        cached = index.get(diff_id) if index is not None else None
        if cached is not None:
            known[diff_id] = cached
            continue
        blob = Digest(desc["digest"])
        size = desc.get("size")
        if blob not in jobs:
            jobs[blob] = LayerJob(
                i,
                blob,
                size if isinstance(size, int) and size >= 0 else None,
                diff_id,
                f"{what}: layer {i} ({blob[:19]})",
            )
    return known, jobs


def _part(
    desc: dict[str, Any],
    diff_id: Digest,
    pulled: Mapping[Digest, LayerScan],
    known: dict[Digest, LayerContents],
) -> LayerPart:
    """One layer as the manifest describes it, read now or taken from the cache."""
    blob = Digest(desc["digest"])
    media = desc.get("mediaType") if isinstance(desc.get("mediaType"), str) else None
    size = desc.get("size") if isinstance(desc.get("size"), int) else None
    scan = pulled.get(blob)
    if scan is not None:
        contents = LayerContents(scan.entries, scan.size_bytes, scan.tar_size_bytes, scan.contents)
        compression = scan.compression
    else:
        contents = known[diff_id]
        compression = _compression_of(media)
    return LayerPart(diff_id, blob, media, size, contents, compression)
