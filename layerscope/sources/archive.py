"""Load an image from a ``docker save``-style archive, an OCI layout directory or an OCI tar.

The daemon source hands its export to this same parser.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import DigestMismatchError, ImageFormatError, LayerFormatError
from ..layers import LayerScan, prefixed, scan_layer, sniff_compression
from ..model import (
    Digest,
    Image,
    Layer,
    Platform,
    Progress,
)
from .blobs import BlobStore, DirBlobStore, open_tar_store
from .config import align_history as _align_history
from .config import diff_ids as _diff_ids
from .config import history as _history
from .config import image_config as _image_config
from .manifests import DOCKER_LAYER, select_image

NAME = "archive"


def load_path(
    path: Path,
    *,
    selector: str | None = None,
    platform: Platform | None = None,
    spool_dir: Path,
    ref: str = "",
    source: str = "docker-archive",
    progress: Progress | None = None,
    verify: bool = False,
) -> Image:
    """Load one image from an archive file or a layout directory."""
    store: BlobStore
    if path.is_dir():
        if not (path / "oci-layout").is_file() and not (path / "index.json").is_file():
            raise ImageFormatError(f"{path}: not an OCI image layout (no oci-layout or index.json)")
        store = DirBlobStore(path)
        source = "oci"
    else:
        store = open_tar_store(path, spool_dir, progress)
    try:
        return load_store(
            store,
            selector=selector,
            platform=platform,
            ref=ref or str(path),
            source=source,
            progress=progress,
            verify=verify,
        )
    finally:
        store.close()


def load_store(
    store: BlobStore,
    *,
    selector: str | None,
    platform: Platform | None,
    ref: str,
    source: str,
    progress: Progress | None = None,
    verify: bool = False,
) -> Image:
    """Build an ``Image`` from whatever archive or layout ``store`` holds."""
    chosen = select_image(store, selector, platform)
    config_bytes = store.read_bytes(chosen.config_path)
    image_id = Digest("sha256:" + hashlib.sha256(config_bytes).hexdigest())
    try:
        config = json.loads(config_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageFormatError(f"{store.label}: image config is not valid JSON") from exc
    if not isinstance(config, dict):
        raise ImageFormatError(f"{store.label}: image config is not a JSON object")
    if verify:
        expected = (
            chosen.config_path.rsplit("/", 1)[-1].removesuffix(".json").removeprefix("sha256:")
        )
        if len(expected) == 64 and expected != image_id.split(":", 1)[1]:
            raise DigestMismatchError(
                f"{store.label}: config blob hashes to {image_id}, not sha256:{expected}"
            )
    diff_ids = _diff_ids(config, store.label)
    if len(diff_ids) != len(chosen.layers):
        raise ImageFormatError(
            f"{store.label}: config lists {len(diff_ids)} diff_ids but the manifest has "
            f"{len(chosen.layers)} layers"
        )
    history = _history(config)
    per_layer_history = _align_history(history, len(diff_ids))
    scans: dict[tuple[str, str], LayerScan] = {}
    layers: list[Layer] = []
    total = len(chosen.layers)
    for index, (layer_ref, diff_id) in enumerate(zip(chosen.layers, diff_ids, strict=True)):
        key = (layer_ref.path, diff_id)
        scan = scans.get(key)
        blob_size = store.size(layer_ref.path)
        if scan is None:
            if progress is not None:
                progress.stage(f"layer {index + 1}/{total}", blob_size)
            with store.open(layer_ref.path) as stream:
                head = stream.read(8)
                # A compressed blob named by no descriptor (crane, containerd manifest.json)
                # gets its digest computed: cheap next to decompressing it.
                unnamed = layer_ref.digest is None and sniff_compression(head) != "none"
                try:
                    scan = scan_layer(
                        prefixed(head, stream),
                        want_diff_id=verify,
                        want_digest=unnamed or (verify and layer_ref.digest is not None),
                        progress=progress,
                    )
                except LayerFormatError as exc:
                    raise LayerFormatError(
                        f"{store.label}: layer {index} ({layer_ref.path}): {exc}"
                    ) from exc
            scans[key] = scan
        if verify:
            _verify(store.label, index, layer_ref.digest, diff_id, scan)
        if layer_ref.size is not None and layer_ref.size != blob_size:
            raise DigestMismatchError(
                f"{store.label}: layer {index} blob is {blob_size} bytes but the manifest says "
                f"{layer_ref.size}"
            )
        digest = layer_ref.digest or (diff_id if scan.compression == "none" else scan.digest)
        media_type = layer_ref.media_type or (
            DOCKER_LAYER if scan.compression == "none" else DOCKER_LAYER + "." + scan.compression
        )
        layers.append(
            Layer(
                index=index,
                diff_id=diff_id,
                digest=digest,
                media_type=media_type,
                compressed_size_bytes=blob_size,
                size_bytes=scan.size_bytes,
                tar_size_bytes=scan.tar_size_bytes,
                history=per_layer_history[index],
                entries=scan.entries,
                compression=scan.compression,
            )
        )
    return Image(
        ref=ref,
        image_id=image_id,
        platform=Platform(
            str(config.get("os") or "linux"),
            str(config.get("architecture") or "unknown"),
            config.get("variant") or None,
        ),
        created=config.get("created") if isinstance(config.get("created"), str) else None,
        config=_image_config(config.get("config") or {}),
        history=history,
        layers=tuple(layers),
        repo_tags=chosen.repo_tags,
        annotations=chosen.annotations,
        source=source,
        manifest_digest=chosen.manifest_digest,
    )


def _verify(
    label: str, index: int, digest: Digest | None, diff_id: Digest, scan: LayerScan
) -> None:
    if scan.diff_id is not None and scan.diff_id != diff_id:
        raise DigestMismatchError(
            f"{label}: layer {index} uncompressed content hashes to {scan.diff_id}, "
            f"but the config says {diff_id}"
        )
    if digest is not None and scan.digest is not None and scan.digest != digest:
        raise DigestMismatchError(
            f"{label}: layer {index} blob hashes to {scan.digest}, but the manifest says {digest}"
        )
