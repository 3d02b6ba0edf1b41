"""``write_image``: build specs into blobs and lay them out in one archive format."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from layerscope.testing.archive import Record, write_dir, write_tar
from layerscope.testing.blobs import BlobStore
from layerscope.testing.build import BuiltImage, build_image
from layerscope.testing.docker_formats import (
    crane_tarball,
    docker_25,
    docker_legacy,
    skopeo_archive,
)
from layerscope.testing.oci_formats import BuiltIndex, BuiltItem, containerd_archive, oci_layout
from layerscope.testing.spec import Compression, ImageSpec, IndexSpec, LayerSpec

Format = Literal[
    "docker-legacy",
    "docker-25",
    "containerd",
    "skopeo-docker-archive",
    "crane",
    "oci-dir",
    "oci-tar",
]
FORMATS: tuple[str, ...] = get_args(Format)

_DEFAULT: dict[str, Compression] = {
    "docker-legacy": "none",
    "docker-25": "none",
    "skopeo-docker-archive": "none",
    "crane": "gzip",
    "containerd": "gzip",
    "oci-dir": "gzip",
    "oci-tar": "gzip",
}
_ALLOWED: dict[str, frozenset[str]] = {
    "docker-legacy": frozenset({"none"}),
    "docker-25": frozenset({"none"}),
    "skopeo-docker-archive": frozenset({"none"}),
    "crane": frozenset({"gzip", "zstd"}),
}


@dataclass(frozen=True, slots=True)
class WrittenLayer:
    """Facts about one written layer."""

    diff_id: str
    digest: str
    """Digest of the stored blob (== diff_id when uncompressed)."""
    size_bytes: int
    """Size of the stored blob."""
    tar_size_bytes: int
    """Size of the uncompressed layer tar."""
    compression: Compression
    media_type: str


@dataclass(frozen=True, slots=True)
class WrittenImage:
    """Facts about one written (single-platform) image."""

    config_digest: str
    config_bytes: bytes
    layers: tuple[WrittenLayer, ...]
    repo_tags: tuple[str, ...]
    platform: str

    @property
    def diff_ids(self) -> tuple[str, ...]:
        """rootfs.diff_ids."""
        return tuple(layer.diff_id for layer in self.layers)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What ``write_image`` wrote: the path and every present image, in spec order."""

    path: Path
    format: str
    images: tuple[WrittenImage, ...]


Item = ImageSpec | IndexSpec


def write_image(
    spec: Item | Sequence[Item],
    path: str | os.PathLike[str],
    format: Format = "docker-25",
    compression: Compression | None = None,
    outer_gzip: bool = False,
    *,
    gzip_level: int = 6,
) -> WriteResult:
    """Write one image, a multi-platform image or several of them to ``path`` in ``format``.

    ``compression`` is the default per-layer compression (format default when None; a
    ``LayerSpec.compression`` overrides it); formats that store layers uncompressed reject
    others. ``outer_gzip`` gzips the whole archive (not for ``oci-dir``). IndexSpec is accepted
    by ``containerd``, ``oci-dir`` and ``oci-tar`` only. Output is byte-for-byte deterministic.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    items: list[Item] = [spec] if isinstance(spec, ImageSpec | IndexSpec) else list(spec)
    comp: Compression = compression or _DEFAULT[format]
    allowed = _ALLOWED.get(format)
    layer_comps = {comp} | {ly.compression for it in items for ly in _layers(it) if ly.compression}
    if allowed is not None and not layer_comps <= allowed:
        raise ValueError(f"format {format} stores layers as {'/'.join(sorted(allowed))} only")
    if outer_gzip and format == "oci-dir":
        raise ValueError("outer_gzip does not apply to oci-dir")
    if any(isinstance(it, IndexSpec) for it in items) and format not in (
        "containerd",
        "oci-dir",
        "oci-tar",
    ):
        raise ValueError(f"format {format} cannot hold a multi-platform IndexSpec")
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if format == "oci-dir" and dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} exists and is not empty")
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        store = BlobStore(work, gzip_level=gzip_level)
        built = [_build(it, store, comp) for it in items]
        records = _layout(format, built, store)
        if format == "oci-dir":
            write_dir(records, dest)
        else:
            tmp = work / "out.tar"
            write_tar(records, tmp, outer_gzip)
            os.replace(tmp, dest)
        return WriteResult(dest, format, tuple(_written(b) for b in _flat(built)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _layers(item: Item) -> list[LayerSpec]:
    if isinstance(item, ImageSpec):
        return list(item.layers)
    return [ly for img in item.images for ly in img.layers]


def _build(item: Item, store: BlobStore, comp: Compression) -> BuiltItem:
    if isinstance(item, ImageSpec):
        return build_image(item, store, comp)
    if not item.images:
        raise ValueError("IndexSpec needs at least one present image")
    return BuiltIndex(item, tuple(build_image(img, store, comp) for img in item.images))


def _flat(built: Sequence[BuiltItem]) -> list[BuiltImage]:
    out: list[BuiltImage] = []
    for b in built:
        out.extend([b] if isinstance(b, BuiltImage) else b.images)
    return out


def _layout(format: str, built: list[BuiltItem], store: BlobStore) -> list[Record]:
    if format in ("containerd", "oci-dir", "oci-tar"):
        return (containerd_archive if format == "containerd" else oci_layout)(built, store)
    images = [b for b in built if isinstance(b, BuiltImage)]
    if format == "docker-legacy":
        return docker_legacy(images)
    if format == "docker-25":
        return docker_25(images, store)
    if format == "skopeo-docker-archive":
        return skopeo_archive(images)
    return crane_tarball(images)


def _written(b: BuiltImage) -> WrittenImage:
    layers = tuple(
        WrittenLayer(
            lb.diff_id,
            lb.blob.digest,
            lb.blob.size,
            lb.tar_size,
            lb.compression,
            lb.blob.media_type,
        )
        for lb in b.layers
    )
    return WrittenImage(
        b.config.digest, b.config.data or b"", layers, tuple(b.spec.repo_tags), b.spec.platform
    )
