"""manifest.json archive layouts: docker save (legacy, 25+), skopeo/podman docker-archive, crane."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from layerscope.testing.archive import (
    Record,
    blob_record,
    bytes_record,
    dedupe,
    dir_record,
    walk_order,
)
from layerscope.testing.blobs import (
    MT_OCI_CONFIG,
    MT_OCI_LAYER,
    BlobStore,
    chain_ids,
    go_json,
    oci_manifest,
    sha256_digest,
)
from layerscope.testing.build import BuiltImage, familiar_name, familiar_ref, full_ref, split_ref

_EPOCH = "1970-01-01T00:00:00Z"
_CONTAINER_CONFIG: dict[str, Any] = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "Labels": None,
}


def epoch(created: str) -> int:
    """Unix seconds of an RFC 3339 timestamp."""
    return int(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp())


def _v1_image(img: BuiltImage, top: bool) -> dict[str, Any]:
    """Go ``image.V1Image`` fields (without id/parent) for one legacy layer."""
    if not top:
        return {"created": _EPOCH, "container_config": _CONTAINER_CONFIG}
    cfg = json.loads(img.config.data or b"{}")
    v1: dict[str, Any] = {"created": cfg.get("created", _EPOCH)}
    v1["container_config"] = cfg.get("container_config", _CONTAINER_CONFIG)
    for key in ("author", "config", "architecture", "variant"):
        if cfg.get(key):
            v1[key] = cfg[key]
    return v1


def _legacy_chain(img: BuiltImage) -> list[tuple[str, bytes]]:
    """(v1 id hex, legacy json bytes) per layer, as moby's ``v1.CreateID`` derives them."""
    out: list[tuple[str, bytes]] = []
    parent = ""
    chains = chain_ids(img.diff_ids)
    for i, chain in enumerate(chains):
        v1 = _v1_image(img, i == len(chains) - 1)
        v1["os"] = img.spec.os
        id_src = dict(v1)
        id_src["layer_id"] = chain
        if parent:
            id_src["parent"] = "sha256:" + parent
        v1id = sha256_digest(go_json({k: id_src[k] for k in sorted(id_src)}))[7:]
        doc: dict[str, Any] = {"id": v1id}
        if parent:
            doc["parent"] = parent
        doc.update(v1)
        out.append((v1id, go_json(doc)))
        parent = v1id
    return out


def _repositories(entries: list[tuple[str, str, str]]) -> bytes:
    repos: dict[str, dict[str, str]] = {}
    for name, tag, value in entries:
        repos.setdefault(name, {})[tag] = value
    return go_json({k: repos[k] for k in sorted(repos)}, newline=True)


def docker_legacy(images: Sequence[BuiltImage]) -> list[Record]:
    """``docker save`` of Docker <= 24 (graphdriver): ``<v1id>/layer.tar`` + json + VERSION."""
    recs: list[Record] = []
    manifest: list[dict[str, Any]] = []
    repo_entries: list[tuple[str, str, str]] = []
    for img in images:
        ts = epoch(img.spec.created)
        recs.append(blob_record(img.config.hex + ".json", img.config, ts))
        layer_paths: list[str] = []
        first_path: dict[str, str] = {}
        for (v1id, v1json), lb in zip(_legacy_chain(img), img.layers, strict=True):
            path = f"{v1id}/layer.tar"
            layer_paths.append(path)
            recs += [
                dir_record(v1id, ts),
                bytes_record(f"{v1id}/VERSION", b"1.0", ts),
                bytes_record(f"{v1id}/json", v1json, ts),
            ]
            if lb.diff_id in first_path and first_path[lb.diff_id] != path:
                recs.append(Record(path, "symlink", target="../" + first_path[lb.diff_id]))
            else:
                first_path[lb.diff_id] = path
                recs.append(blob_record(path, lb.blob, ts))
        tags = [familiar_ref(t) for t in img.spec.repo_tags]
        manifest.append(
            {"Config": img.config.hex + ".json", "RepoTags": tags or None, "Layers": layer_paths}
        )
        top = layer_paths[-1].split("/")[0] if layer_paths else ""
        repo_entries += [(familiar_name(t), split_ref(t)[2], top) for t in img.spec.repo_tags]
    recs.append(bytes_record("manifest.json", go_json(manifest, newline=True)))
    if repo_entries:
        recs.append(bytes_record("repositories", _repositories(repo_entries)))
    return walk_order(dedupe(recs))


def docker_25(images: Sequence[BuiltImage], store: BlobStore) -> list[Record]:
    """``docker save`` of Docker 25+ (graphdriver): OCI layout + manifest.json + repositories."""
    recs: list[Record] = [dir_record("blobs"), dir_record("blobs/sha256")]
    manifest: list[dict[str, Any]] = []
    index: list[dict[str, Any]] = []
    repo_entries: list[tuple[str, str, str]] = []
    for img in images:
        ts = epoch(img.spec.created)
        layer_blobs = [lb.blob for lb in img.layers]
        for _, v1json in _legacy_chain(img):  # orphan blobs, referenced by nothing
            recs.append(
                blob_record(
                    f"blobs/sha256/{sha256_digest(v1json)[7:]}", store.bytes_blob(v1json), ts
                )
            )
        for b in layer_blobs:
            recs.append(blob_record(f"blobs/sha256/{b.hex}", b, ts))
        recs.append(blob_record(f"blobs/sha256/{img.config.hex}", img.config, ts))
        mblob = store.json_blob(oci_manifest(img.config, layer_blobs, MT_OCI_CONFIG))
        recs.append(blob_record(f"blobs/sha256/{mblob.hex}", mblob))
        desc = {
            "mediaType": mblob.media_type or "application/vnd.oci.image.manifest.v1+json",
            "digest": mblob.digest,
            "size": mblob.size,
        }
        tags = list(img.spec.repo_tags)
        for t in tags:
            ann = {
                "io.containerd.image.name": full_ref(t),
                "org.opencontainers.image.ref.name": split_ref(t)[2],
            }
            index.append({**desc, "annotations": ann})
            top = img.diff_ids[-1][7:] if img.diff_ids else ""
            repo_entries.append((familiar_name(t), split_ref(t)[2], top))
        if not index:  # moby evaluates this across images (moby#51389)
            index.append(desc)
        sources = {
            lb.diff_id: {"mediaType": MT_OCI_LAYER, "digest": lb.blob.digest, "size": lb.blob.size}
            for lb in img.layers
        }
        manifest.append(
            {
                "Config": f"blobs/sha256/{img.config.hex}",
                "RepoTags": [familiar_ref(t) for t in tags] or None,
                "Layers": [f"blobs/sha256/{b.hex}" for b in layer_blobs],
                "LayerSources": {k: sources[k] for k in sorted(sources)},
            }
        )
    recs.append(bytes_record("manifest.json", go_json(manifest, newline=True)))
    recs.append(bytes_record("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'))
    idx = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": index,
    }
    recs.append(bytes_record("index.json", go_json(idx)))
    if repo_entries:
        recs.append(bytes_record("repositories", _repositories(repo_entries)))
    return walk_order(dedupe(recs))


def skopeo_archive(images: Sequence[BuiltImage]) -> list[Record]:
    """containers/image docker-archive (skopeo/podman): ``<diffid>.tar`` + symlinked legacy dirs."""
    recs: list[Record] = []
    manifest: list[dict[str, Any]] = []
    repo_entries: list[tuple[str, str, str]] = []
    for img in images:
        for lb in img.layers:
            recs.append(blob_record(f"{lb.blob.hex}.tar", lb.blob, 0, 0o444))
        recs.append(blob_record(f"{img.config.hex}.json", img.config, 0, 0o444))
        cfg = json.loads(img.config.data or b"{}")
        last = ""
        chain = ""
        for i, lb in enumerate(img.layers):
            layer_cfg: dict[str, Any] = {}
            if last:
                layer_cfg["parent"] = last
            if i == len(img.layers) - 1:
                for attr in (
                    "architecture",
                    "config",
                    "container",
                    "container_config",
                    "created",
                    "docker_version",
                    "os",
                ):
                    layer_cfg[attr] = cfg.get(attr)
            chain = lb.diff_id if not chain else sha256_digest(f"{chain} {lb.diff_id}".encode())
            layer_cfg["layer_id"] = chain
            layer_id = sha256_digest(go_json({k: layer_cfg[k] for k in sorted(layer_cfg)}))[7:]
            del layer_cfg["layer_id"]
            layer_cfg["id"] = layer_id
            recs += [
                Record(f"{layer_id}/layer.tar", "symlink", target=f"../{lb.blob.hex}.tar"),
                bytes_record(f"{layer_id}/VERSION", b"1.0", 0, 0o444),
                bytes_record(
                    f"{layer_id}/json",
                    go_json({k: layer_cfg[k] for k in sorted(layer_cfg)}),
                    0,
                    0o444,
                ),
            ]
            last = layer_id
        tags = [full_ref(t) for t in img.spec.repo_tags]
        manifest.append(
            {
                "Config": f"{img.config.hex}.json",
                "RepoTags": tags,
                "Layers": [f"{lb.blob.hex}.tar" for lb in img.layers],
            }
        )
        repo_entries += [(full_ref(t).rsplit(":", 1)[0], split_ref(t)[2], last) for t in tags]
    recs.append(bytes_record("manifest.json", go_json(manifest), 0, 0o444))
    repos: dict[str, dict[str, str]] = {}
    for name, tag, value in repo_entries:
        repos.setdefault(name, {})[tag] = value
    recs.append(bytes_record("repositories", go_json(repos), 0, 0o444))
    return dedupe(recs)


def crane_tarball(images: Sequence[BuiltImage]) -> list[Record]:
    """go-containerregistry ``tarball.Write`` (crane pull): ``sha256:<hex>`` config, ``.tar.gz``."""
    recs: list[Record] = []
    manifest: list[dict[str, Any]] = []
    for img in images:
        recs.append(blob_record(img.config.digest, img.config))
        files = [f"{lb.blob.hex}.tar.gz" for lb in img.layers]
        for name, lb in zip(files, img.layers, strict=True):
            recs.append(blob_record(name, lb.blob))
        tags = [_ggcr_ref(t) for t in img.spec.repo_tags]
        manifest.append({"Config": img.config.digest, "RepoTags": tags or None, "Layers": files})
    manifest.sort(key=lambda m: ",".join(m["RepoTags"] or []))
    recs.append(bytes_record("manifest.json", go_json(manifest)))
    return dedupe(recs)


def _ggcr_ref(ref: str) -> str:
    domain, path, tag = split_ref(ref)
    return f"{'index.docker.io' if domain == 'docker.io' else domain}/{path}:{tag}"
