"""Load an image from a ``docker save``-style archive, an OCI layout directory or an OCI tar.

The daemon source hands its export to this same parser.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..errors import DigestMismatchError, ImageFormatError, LayerFormatError
from ..layers import LayerScan, prefixed, scan_layer, sniff_compression
from ..model import Digest, Image, Layer, LayerContents, LayerIndex, Platform, Progress
from .blobs import BlobStore, DirBlobStore, open_tar_store
from .config import align_history as _align_history
from .config import diff_ids as _diff_ids
from .config import history as _history
from .config import image_config as _image_config
from .manifests import DOCKER_LAYER, LayerRef, select_image

Defer = Callable[[Callable[[], None]], None]
"""Runs work in the background; the caller waits for it before it exits."""


def load_path(
    path: Path,
    *,
    selector: str | None = None,
    platform: Platform | None = None,
    spool_dir: Path | None = None,
    ref: str = "",
    source: str = "docker-archive",
    progress: Progress | None = None,
    verify: bool = False,
    index: LayerIndex | None = None,
    defer: Defer | None = None,
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
            index=index,
            defer=defer,
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
    index: LayerIndex | None = None,
    defer: Defer | None = None,
) -> Image:
    """Build an ``Image`` from whatever archive or layout ``store`` holds.

    ``index`` is the layer cache; ``defer`` runs the check of a layer's bytes against its
    diff_id in the background before the layer is cached (None: the check runs at once).
    """
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
            f"{len(chosen.layers)} layer{'s' if len(chosen.layers) != 1 else ''}"
        )
    history = _history(config)
    per_layer_history = _align_history(history, len(diff_ids))
    scans: dict[tuple[str, str], LayerScan] = {}
    layers: list[Layer] = []
    for position, (layer_ref, diff_id) in enumerate(zip(chosen.layers, diff_ids, strict=True)):
        blob_size = store.size(layer_ref.path)
        if layer_ref.size is not None and layer_ref.size != blob_size:
            raise DigestMismatchError(
                f"{store.label}: layer {position} blob is {blob_size} bytes but the manifest "
                f"says {layer_ref.size}"
            )
        key = (layer_ref.path, diff_id)
        scan = scans.get(key)
        if scan is None:
            scan = _read_layer(
                store,
                layer_ref,
                diff_id,
                position,
                len(diff_ids),
                progress=progress,
                verify=verify,
                index=index,
                defer=defer,
            )
            scans[key] = scan
        digest = layer_ref.digest or (diff_id if scan.compression == "none" else scan.digest)
        media_type = layer_ref.media_type or (
            DOCKER_LAYER if scan.compression == "none" else DOCKER_LAYER + "." + scan.compression
        )
        layers.append(
            Layer(
                index=position,
                diff_id=diff_id,
                digest=digest,
                media_type=media_type,
                compressed_size_bytes=blob_size,
                size_bytes=scan.size_bytes,
                tar_size_bytes=scan.tar_size_bytes,
                history=per_layer_history[position],
                entries=scan.entries,
                compression=scan.compression,
                contents=scan.contents,
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


def _read_layer(
    store: BlobStore,
    layer_ref: LayerRef,
    diff_id: Digest,
    position: int,
    total: int,
    *,
    progress: Progress | None,
    verify: bool,
    index: LayerIndex | None,
    defer: Defer | None = None,
) -> LayerScan:
    """Scan one layer blob, or take its contents from the layer cache.

    A layer goes into the cache only once its uncompressed bytes hashed to the diff_id, so an
    archive that lies about a layer cannot poison the cache. For a compressed blob the sha256
    runs on a second thread while the tar is walked; an uncompressed blob is hashed again from
    its own file handle by ``defer``'s background work, so the walk never waits for it.
    """
    with store.open(layer_ref.path) as stream:
        head = stream.read(8)
        compression = sniff_compression(head)
        # A compressed blob named by no descriptor (crane, containerd's manifest.json) gets its
        # digest computed: cheap next to decompressing it.
        unnamed = layer_ref.digest is None and compression != "none"
        cached = index.get(diff_id) if index is not None else None
        if cached is not None and not verify:
            digest = _sha256_of(prefixed(head, stream)) if unnamed else None
            return LayerScan(
                cached.entries,
                cached.size_bytes,
                cached.tar_size_bytes,
                compression,
                None,
                None,
                digest,
                cached.contents,
            )
        later = index is not None and defer is not None and not verify and compression == "none"
        scanned = _Handoff()
        if later and index is not None and defer is not None:
            # hashed from its own file handle on another thread, from now on: in parallel with
            # the walk and what follows, not after it
            defer(_check_then_cache(store, layer_ref, position, diff_id, index, scanned))
        if progress is not None:
            progress.stage(f"layer {position + 1}/{total}", store.size(layer_ref.path))
        try:
            scan = scan_layer(
                prefixed(head, stream),
                want_diff_id=verify or (index is not None and not later),
                want_digest=unnamed or (verify and layer_ref.digest is not None),
                progress=progress,
            )
        except LayerFormatError as exc:
            scanned.give(None)
            raise LayerFormatError(
                f"{store.label}: layer {position} ({layer_ref.path}): {exc}"
            ) from exc
        except BaseException:
            scanned.give(None)
            raise
    if index is None:
        if verify:
            _verify(store.label, position, layer_ref.digest, diff_id, scan)
        return scan
    contents = LayerContents(scan.entries, scan.size_bytes, scan.tar_size_bytes, scan.contents)
    stored = layer_ref.digest or scan.digest
    if later:
        scanned.give((contents, stored))
        return scan
    _verify(store.label, position, layer_ref.digest, diff_id, scan)
    index.put(diff_id, contents, digest=stored)
    return scan


class _Handoff:
    """What the walk found, handed to the background check once the walk is done."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._value: tuple[LayerContents, Digest | None] | None = None

    def give(self, value: tuple[LayerContents, Digest | None] | None) -> None:
        self._value = value
        self._ready.set()

    def take(self) -> tuple[LayerContents, Digest | None] | None:
        self._ready.wait()
        return self._value


def _check_then_cache(
    store: BlobStore,
    layer_ref: LayerRef,
    position: int,
    diff_id: Digest,
    index: LayerIndex,
    scanned: _Handoff,
) -> Callable[[], None]:
    """Background work: hash the blob, wait for the walk, cache its result if the hash matches."""
    detached = store.open_detached(layer_ref.path)
    label = f"{store.label}: layer {position}"

    def work() -> None:
        with detached:
            got = _sha256_of(detached)
        result = scanned.take()
        if result is None:
            return  # the walk failed: nothing to cache
        if got != diff_id:
            raise DigestMismatchError(
                f"{label} hashes to {got}, but the config says {diff_id}; not cached"
            )
        index.put(diff_id, result[0], digest=result[1])

    return work


def _sha256_of(stream: IO[bytes]) -> Digest:
    sha = hashlib.sha256()
    while chunk := stream.read(4 << 20):
        sha.update(chunk)
    return Digest("sha256:" + sha.hexdigest())


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
