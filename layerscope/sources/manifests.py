"""Find the image to load in an archive or layout: docker ``manifest.json`` or OCI ``index.json``.

One parser serves every producer (Docker <= 24 and 25+, the containerd store, podman/skopeo, crane,
BuildKit, OCI layouts): it only follows what the metadata references, and never treats "every blob"
as a layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import ImageFormatError, NotFoundError
from ..model import Digest, Platform
from ..platforms import select_platform
from ..refs import normalize_name
from .blobs import BlobStore
from .config import check_config_platform, declared_platform, same_platform

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
SCHEMA1_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.docker.distribution.manifest.v1+json",
    }
)
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


@dataclass(frozen=True, slots=True)
class LayerRef:
    """Where one layer blob is, and what the metadata says about it."""

    path: str
    media_type: str | None
    digest: Digest | None
    size: int | None
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Selected:
    """The image chosen from an archive or layout."""

    config_path: str
    layers: tuple[LayerRef, ...]
    repo_tags: tuple[str, ...] = ()
    manifest_digest: Digest | None = None
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass
class _Candidate:
    names: list[str]
    platform: Platform | None
    manifest_path: str
    manifest_digest: Digest
    annotations: dict[str, str] = field(default_factory=dict)
    ref_names: list[str] = field(default_factory=list)
    top: int = 0
    """Position of the index.json entry it was reached from."""


def load_json(store: BlobStore, name: str) -> Any:
    """Parse a JSON document of the archive; one-line errors for garbage."""
    raw = store.read_bytes(name)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageFormatError(
            f"{store.label}: {name} is not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})"
        ) from exc


def blob_path(digest: str) -> str:
    """Path of a content-addressed blob in an OCI layout."""
    algo, sep, encoded = digest.partition(":")
    if (
        not sep
        or not algo.isalnum()
        or not encoded
        or not all(c in "0123456789abcdef" for c in encoded)
    ):
        raise ImageFormatError(f"invalid digest {digest!r}")
    return f"blobs/{algo}/{encoded}"


def select_image(store: BlobStore, selector: str | None, platform: Platform | None) -> Selected:
    """Pick one image from the store by tag / ref name and platform (design.md rules)."""
    has_manifest = store.has("manifest.json")
    has_index = store.has("index.json")
    if not has_manifest and not has_index:
        raise ImageFormatError(
            f"{store.label}: not an image archive (no manifest.json or index.json)"
        )
    if has_manifest:
        chosen = _select_docker(store, selector, platform, fall_back_to_index=has_index)
        if chosen is not None:
            return _enrich_from_index(store, chosen) if has_index else chosen
    return _select_oci(store, selector, platform)


def _select_docker(
    store: BlobStore, selector: str | None, platform: Platform | None, fall_back_to_index: bool
) -> Selected | None:
    doc = load_json(store, "manifest.json")
    if not isinstance(doc, list) or not all(isinstance(item, dict) for item in doc):
        raise ImageFormatError(f"{store.label}: manifest.json is not a list of images")
    if not doc:
        if fall_back_to_index:
            return None
        raise ImageFormatError(f"{store.label}: manifest.json lists no image")
    entries = doc
    if selector is not None:
        entries = _match_docker(doc, selector)
        if not entries:
            if fall_back_to_index:
                return None
            tags = sorted({t for item in doc for t in (item.get("RepoTags") or [])})
            raise NotFoundError(
                f"{store.label}: no image tagged {selector}"
                + (f" (tags present: {', '.join(tags)})" if tags else " (its images are untagged)")
            )
    if len(entries) > 1:
        tags = sorted({t for item in entries for t in (item.get("RepoTags") or [])})
        raise NotFoundError(
            f"{store.label}: holds {len(entries)} images; pick one with PATH:NAME[:TAG]"
            + (f" (tags: {', '.join(tags)})" if tags else "")
        )
    item = entries[0]
    config = item.get("Config")
    layers = item.get("Layers")
    if not isinstance(config, str) or not isinstance(layers, list):
        raise ImageFormatError(f"{store.label}: manifest.json entry lacks Config or Layers")
    if platform is not None:
        cfg = load_json(store, config)
        have = declared_platform(cfg)
        if have is not None and not same_platform(have, platform) and fall_back_to_index:
            return None
        check_config_platform(cfg, platform, store.label)
    refs = []
    for path in layers:
        if not isinstance(path, str):
            raise ImageFormatError(f"{store.label}: manifest.json has a non-string layer path")
        refs.append(LayerRef(clean(path), None, None, None))
    return Selected(clean(config), tuple(refs), tuple(item.get("RepoTags") or ()))


def clean(path: str) -> str:
    return path.lstrip("/").removeprefix("./")


def _match_docker(doc: list[dict[str, Any]], selector: str) -> list[dict[str, Any]]:
    if selector.startswith("@") and selector[1:].isdigit():
        idx = int(selector[1:])
        return [doc[idx]] if idx < len(doc) else []
    wanted = normalize_name(selector)
    return [
        item
        for item in doc
        if any(_norm_or_none(tag) == wanted for tag in (item.get("RepoTags") or []))
    ]


def _norm_or_none(name: str) -> str | None:
    try:
        return normalize_name(name)
    except Exception:  # noqa: BLE001 - a malformed tag in the archive simply does not match
        return None


def _enrich_from_index(store: BlobStore, chosen: Selected) -> Selected:
    """Add media types and digests from the OCI manifest that shares the chosen config."""
    try:
        candidates = _walk_index(store)
    except (ImageFormatError, NotFoundError):
        return chosen
    for cand in candidates:
        if not store.has(cand.manifest_path):
            continue
        manifest = load_json(store, cand.manifest_path)
        cfg = manifest.get("config", {}) if isinstance(manifest, dict) else {}
        if (
            not isinstance(cfg, dict)
            or clean(blob_path(str(cfg.get("digest", "x:y")))) != chosen.config_path
        ):
            continue
        descs = manifest.get("layers") or []
        if len(descs) != len(chosen.layers):
            continue
        layers = []
        for ref, desc in zip(chosen.layers, descs, strict=True):
            layers.append(
                LayerRef(
                    ref.path,
                    desc.get("mediaType"),
                    desc.get("digest"),
                    desc.get("size"),
                    _annotations(desc),
                )
            )
        return Selected(
            chosen.config_path,
            tuple(layers),
            chosen.repo_tags,
            cand.manifest_digest,
            tuple(sorted(cand.annotations.items())),
        )
    return chosen


def _annotations(desc: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    ann = desc.get("annotations") or {}
    if not isinstance(ann, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in ann.items()))


def _walk_index(store: BlobStore) -> list[_Candidate]:
    index = load_json(store, "index.json")
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ImageFormatError(f"{store.label}: index.json has no manifests list")
    out: list[_Candidate] = []

    def visit(
        desc: dict[str, Any],
        names: list[str],
        refs: list[str],
        ann: dict[str, str],
        top: int,
        depth: int,
    ) -> None:
        if depth > 8:
            raise ImageFormatError(f"{store.label}: index nesting too deep")
        media = desc.get("mediaType")
        digest = desc.get("digest")
        if not isinstance(digest, str):
            raise ImageFormatError(f"{store.label}: index entry without a digest")
        path = blob_path(digest)
        if media in SCHEMA1_TYPES:
            raise ImageFormatError(f"{store.label}: schema 1 manifests are not supported")
        if media in INDEX_TYPES or (media is None and _looks_like_index(store, path)):
            if not store.has(path):
                return  # a nested index that was not exported (other platforms): nothing to offer
            child = load_json(store, path)
            for sub in child.get("manifests") or []:
                if isinstance(sub, dict):
                    visit(sub, names, refs, ann, top, depth + 1)
            return
        if media is not None and media not in MANIFEST_TYPES:
            return  # unknown media types MUST NOT error (image-layout spec)
        plat = desc.get("platform")
        platform = None
        if isinstance(plat, dict) and plat.get("os") and plat.get("architecture"):
            platform = Platform(
                str(plat["os"]), str(plat["architecture"]), plat.get("variant") or None
            )
        sub_ann = _annotations(desc)
        if dict(sub_ann).get("vnd.docker.reference.type") == "attestation-manifest":
            return
        if platform is not None and platform.os == "unknown" and platform.architecture == "unknown":
            return
        out.append(
            _Candidate(names, platform, path, Digest(digest), {**ann, **dict(sub_ann)}, refs, top)
        )

    for position, top in enumerate(index["manifests"]):
        if not isinstance(top, dict):
            continue
        ann = dict(_annotations(top))
        names: list[str] = []
        refs: list[str] = []
        if REF_NAME in ann:
            refs.append(ann[REF_NAME])
        if CONTAINERD_NAME in ann:
            norm = _norm_or_none(ann[CONTAINERD_NAME])
            if norm:
                names.append(norm)
        visit(top, names, refs, ann, position, 0)
    return out


def _looks_like_index(store: BlobStore, path: str) -> bool:
    if not store.has(path) or store.size(path) > (4 << 20):
        return False
    doc = load_json(store, path)
    return isinstance(doc, dict) and isinstance(doc.get("manifests"), list)


def _select_oci(store: BlobStore, selector: str | None, platform: Platform | None) -> Selected:
    candidates = _walk_index(store)
    if selector is not None:
        if selector.startswith("@") and selector[1:].isdigit():
            idx = int(selector[1:])
            tops = _top_groups(candidates)
            candidates = tops[idx] if idx < len(tops) else []
        else:
            wanted = _norm_or_none(selector)
            candidates = [
                c
                for c in candidates
                if selector in c.ref_names
                or (
                    wanted is not None
                    and (wanted in c.names or any(_norm_or_none(r) == wanted for r in c.ref_names))
                )
            ]
        if not candidates:
            present = sorted({r for c in _walk_index(store) for r in c.ref_names + c.names})
            raise NotFoundError(
                f"{store.label}: no image named {selector}"
                + (f" (names present: {', '.join(present)})" if present else "")
            )
    available = [c for c in candidates if store.has(c.manifest_path)]
    if not available:
        if candidates:
            raise NotFoundError(f"{store.label}: the image's manifest blob is missing")
        raise ImageFormatError(f"{store.label}: index.json lists no image manifest")
    images = {frozenset(c.manifest_digest for c in group) for group in _top_groups(available)}
    if selector is None and len(images) > 1:
        names = sorted({r for c in available for r in c.ref_names + c.names})
        raise NotFoundError(
            f"{store.label}: holds {len(images)} images; pick one with PATH:REF"
            + (f" (names: {', '.join(names)})" if names else " (use @N for the N-th)")
        )
    with_platform = [(c.platform or _config_platform(store, c), c) for c in available]
    cand = select_platform(with_platform, platform)
    manifest = load_json(store, cand.manifest_path)
    if not isinstance(manifest, dict):
        raise ImageFormatError(f"{store.label}: manifest {cand.manifest_digest} is not an object")
    media = manifest.get("mediaType")
    if media in SCHEMA1_TYPES or manifest.get("schemaVersion") == 1:
        raise ImageFormatError(f"{store.label}: schema 1 manifests are not supported")
    cfg = manifest.get("config")
    descs = manifest.get("layers")
    if not isinstance(cfg, dict) or not isinstance(descs, list):
        raise ImageFormatError(
            f"{store.label}: manifest {cand.manifest_digest} lacks config or layers"
        )
    layers = []
    for desc in descs:
        if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
            raise ImageFormatError(f"{store.label}: manifest has a layer without a digest")
        size = desc.get("size")
        layers.append(
            LayerRef(
                blob_path(desc["digest"]),
                desc.get("mediaType"),
                Digest(desc["digest"]),
                size if isinstance(size, int) else None,
                _annotations(desc),
            )
        )
    return Selected(
        blob_path(str(cfg.get("digest"))),
        tuple(layers),
        tuple(cand.names),
        cand.manifest_digest,
        tuple(sorted(cand.annotations.items())),
    )


def _top_groups(candidates: list[_Candidate]) -> list[list[_Candidate]]:
    groups: dict[int, list[_Candidate]] = {}
    for cand in candidates:
        groups.setdefault(cand.top, []).append(cand)
    return [groups[key] for key in sorted(groups)]


def _config_platform(store: BlobStore, cand: _Candidate) -> Platform | None:
    try:
        manifest = load_json(store, cand.manifest_path)
        cfg_desc = manifest.get("config") or {}
        cfg = load_json(store, blob_path(str(cfg_desc.get("digest"))))
    except (ImageFormatError, NotFoundError):
        return None
    return declared_platform(cfg)


def manifest_descriptors(doc: dict[str, Any], label: str) -> tuple[Digest, list[dict[str, Any]]]:
    """(config digest, layer descriptors) of an image manifest, each descriptor a JSON object
    with a string digest; ``label`` names the manifest in the error."""
    cfg_desc = doc.get("config")
    descs = doc.get("layers")
    if not isinstance(cfg_desc, dict) or not isinstance(cfg_desc.get("digest"), str):
        raise ImageFormatError(f"{label} has no config descriptor")
    if not isinstance(descs, list) or not all(
        isinstance(d, dict) and isinstance(d.get("digest"), str) for d in descs
    ):
        raise ImageFormatError(f"{label} has a bad layers list")
    return Digest(cfg_desc["digest"]), descs
