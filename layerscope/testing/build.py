"""Build an ImageSpec into blobs: layers, config, and the reference-name helpers formats share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layerscope.testing.blobs import MT_OCI_CONFIG, Blob, BlobStore, LayerBlob
from layerscope.testing.spec import Compression, ImageSpec

_CONTAINER_KEYS = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir")


@dataclass(frozen=True, slots=True)
class BuiltImage:
    """An image whose blobs exist: its spec, config blob and layer blobs (in rootfs order)."""

    spec: ImageSpec
    config: Blob
    layers: tuple[LayerBlob, ...]

    @property
    def diff_ids(self) -> list[str]:
        """rootfs.diff_ids."""
        return [lb.diff_id for lb in self.layers]


def history(spec: ImageSpec) -> list[dict[str, Any]]:
    """History entries: layer entries aligned with layers, EmptyHistory entries interleaved."""
    if spec.history_override is not None:
        return [dict(h) for h in spec.history_override]
    n = len(spec.layers)
    extras: dict[int, list[dict[str, Any]]] = {}
    for e in spec.history_extra:
        pos = min(e.after, n - 1) if n else -1
        extras.setdefault(pos, []).append(
            _hist(e.created or spec.created, e.author, e.created_by, e.comment, True)
        )
    out = list(extras.get(-1, []))
    for i, layer in enumerate(spec.layers):
        out.append(
            _hist(layer.created or spec.created, layer.author, layer.created_by, layer.comment)
        )
        out.extend(extras.get(i, []))
    return out


def _hist(
    created: str, author: str | None, created_by: str, comment: str | None, empty: bool = False
) -> dict[str, Any]:
    h: dict[str, Any] = {"created": created}
    if author:
        h["author"] = author
    if created_by:
        h["created_by"] = created_by
    if comment:
        h["comment"] = comment
    if empty:
        h["empty_layer"] = True
    return h


def config_document(spec: ImageSpec, diff_ids: list[str]) -> dict[str, Any]:
    """The image config JSON object (top-level keys sorted, as Docker and BuildKit write them)."""
    doc: dict[str, Any] = {
        "architecture": spec.architecture,
        "author": spec.author,
        "config": dict(spec.config),
        "created": spec.created,
        "history": history(spec),
        "os": spec.os,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "variant": spec.variant,
    }
    doc = {k: v for k, v in doc.items() if v is not None}
    doc.update(spec.config_extra)
    return {k: doc[k] for k in sorted(doc)}


def build_image(spec: ImageSpec, store: BlobStore, compression: Compression) -> BuiltImage:
    """Stream every layer of ``spec`` into ``store`` and make its config blob."""
    layers = tuple(
        store.layer(layer, layer.compression or compression, spec.mtime) for layer in spec.layers
    )
    cfg = store.json_blob(config_document(spec, [lb.diff_id for lb in layers]), MT_OCI_CONFIG)
    return BuiltImage(spec, cfg, layers)


# ---------------------------------------------------------------------------------------------
# references (docker/distribution normalisation, enough for test fixtures)


def split_ref(ref: str) -> tuple[str, str, str]:
    """``(domain, path, tag)`` of a tagged reference, Docker-normalised."""
    name, tag = ref, "latest"
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        name, tag = ref[:colon], ref[colon + 1 :]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, rest
    else:
        domain, path = "docker.io", name
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in path:
        path = "library/" + path
    return domain, path, tag


def full_ref(ref: str) -> str:
    """``docker.io/library/busybox:latest`` form."""
    domain, path, tag = split_ref(ref)
    return f"{domain}/{path}:{tag}"


def familiar_name(ref: str) -> str:
    """Repository name as ``docker`` prints it (``busybox``, ``example.com/app``)."""
    domain, path, _ = split_ref(ref)
    if domain == "docker.io":
        return path.removeprefix("library/")
    return f"{domain}/{path}"


def familiar_ref(ref: str) -> str:
    """``busybox:latest`` form."""
    return f"{familiar_name(ref)}:{split_ref(ref)[2]}"


def full_name(ref: str) -> str:
    """``docker.io/library/busybox`` form (no tag)."""
    domain, path, _ = split_ref(ref)
    return f"{domain}/{path}"
