"""Load an image from a ``docker save``-style archive, an OCI layout directory or an OCI tar.

The daemon and Podman sources hand their exports to this same parser.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from ..errors import DigestMismatchError, ImageFormatError, LayerFormatError
from ..layers import LayerScan, prefixed, sniff_compression
from ..model import Digest, Image, ImageRef, LayerContents, LayerIndex, Progress, SourceKind
from .assemble import LayerPart, assemble_image
from .blobs import BlobStore, DirBlobStore, file_span, open_tar_store
from .config import check_layer_count
from .config import diff_ids as _diff_ids
from .context import LoadContext
from .layer_check import Check, Handoff, KeepLocal, local_key
from .layer_scan import scan_layer, with_gzip_estimate
from .manifests import DOCKER_LAYER, LayerRef, Selected, select_image

_Job = tuple[int, LayerRef, Digest]
"""A layer to read: its position, where its blob is, its diff_id."""


def load(ref: ImageRef, ctx: LoadContext) -> Image:
    """The file sources (``docker-archive:``, ``oci:``, ``oci-archive:`` and bare paths)."""
    return load_path(Path(ref.location), ctx, selector=ref.selector, ref=str(ref), source=ref.kind)


def load_path(
    path: Path,
    ctx: LoadContext | None = None,
    *,
    selector: str | None = None,
    spool_dir: Path | None = None,
    ref: str = "",
    source: SourceKind = SourceKind.ARCHIVE,
) -> Image:
    """Load one image from an archive file or a layout directory."""
    ctx = ctx or LoadContext()
    store: BlobStore
    if path.is_dir():
        if not (path / "oci-layout").is_file() and not (path / "index.json").is_file():
            raise ImageFormatError(f"{path}: not an OCI image layout (no oci-layout or index.json)")
        store = DirBlobStore(path)
        source = SourceKind.OCI_LAYOUT
    else:
        store = open_tar_store(path, spool_dir, ctx.progress)
    try:
        return load_store(store, ctx, selector=selector, ref=ref or str(path), source=source)
    finally:
        store.close()


def load_store(
    store: BlobStore, ctx: LoadContext, *, selector: str | None, ref: str, source: SourceKind
) -> Image:
    """Build an ``Image`` from whatever archive or layout ``store`` holds.

    ``ctx.index`` is the layer cache; ``ctx.defer`` runs the check of a layer's bytes against
    its diff_id in the background before the layer is cached (None: the check runs at once).
    """
    chosen = select_image(store, selector, ctx.platform)
    config_bytes = store.read_bytes(chosen.config_path)
    image_id = Digest("sha256:" + hashlib.sha256(config_bytes).hexdigest())
    config = _config_json(config_bytes, store.label)
    if ctx.verify:
        _check_config_digest(chosen, image_id, store.label)
    diff_ids = _diff_ids(config, store.label)
    check_layer_count(diff_ids, len(chosen.layers), store.label)
    todo: dict[tuple[str, str], _Job] = {}
    for position, (layer_ref, diff_id) in enumerate(zip(chosen.layers, diff_ids, strict=True)):
        blob_size = store.size(layer_ref.path)
        if layer_ref.size is not None and layer_ref.size != blob_size:
            raise DigestMismatchError(
                f"{store.label}: layer {position} blob is {blob_size} bytes but the manifest "
                f"says {layer_ref.size}"
            )
        todo.setdefault((layer_ref.path, diff_id), (position, layer_ref, diff_id))

    def read(job: _Job, shown: Progress | None) -> LayerScan:
        position, layer_ref, diff_id = job
        return _read_layer(
            store, layer_ref, diff_id, position, len(diff_ids), replace(ctx, progress=shown)
        )

    scans = _read_all(todo, read, ctx.progress, store)
    parts = [
        _part(store, layer_ref, diff_id, scans[(layer_ref.path, diff_id)])
        for layer_ref, diff_id in zip(chosen.layers, diff_ids, strict=True)
    ]
    return assemble_image(
        config,
        parts,
        ref=ref,
        image_id=image_id,
        source=source,
        repo_tags=chosen.repo_tags,
        annotations=chosen.annotations,
        manifest_digest=chosen.manifest_digest,
    )


def _config_json(config_bytes: bytes, label: str) -> dict[str, Any]:
    try:
        config = json.loads(config_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageFormatError(f"{label}: image config is not valid JSON") from exc
    if not isinstance(config, dict):
        raise ImageFormatError(f"{label}: image config is not a JSON object")
    return config


def _check_config_digest(chosen: Selected, image_id: Digest, label: str) -> None:
    """``--verify``: the config blob hashes to the digest its name carries."""
    expected = chosen.config_path.rsplit("/", 1)[-1].removesuffix(".json").removeprefix("sha256:")
    if len(expected) == 64 and expected != image_id.split(":", 1)[1]:
        raise DigestMismatchError(
            f"{label}: config blob hashes to {image_id}, not sha256:{expected}"
        )


def _part(store: BlobStore, layer_ref: LayerRef, diff_id: Digest, scan: LayerScan) -> LayerPart:
    """A layer as the archive stores it; a blob no descriptor names gets the digest and media
    type its bytes show."""
    plain = scan.compression == "none"
    return LayerPart(
        diff_id=diff_id,
        digest=layer_ref.digest or (diff_id if plain else scan.digest),
        media_type=layer_ref.media_type
        or (DOCKER_LAYER if plain else DOCKER_LAYER + "." + scan.compression),
        compressed_size_bytes=store.size(layer_ref.path),
        contents=LayerContents(
            scan.entries,
            scan.size_bytes,
            scan.tar_size_bytes,
            scan.contents,
            scan.gzip_estimate_bytes,
        ),
        compression=scan.compression,
    )


WALKERS = min(4, os.cpu_count() or 1)
"""Layers walked at once: the compiled walker hashes without the GIL and reads release it."""


def _read_all(
    todo: dict[tuple[str, str], _Job],
    read: Callable[[_Job, Progress | None], LayerScan],
    progress: Progress | None,
    store: BlobStore,
) -> dict[tuple[str, str], LayerScan]:
    """Read every distinct layer, several at once when there are several and cores for them.

    Errors are raised in layer order (the first failing layer's), as a sequential read would.
    """
    workers = min(WALKERS, len(todo))
    if workers <= 1:
        return {key: read(job, progress) for key, job in todo.items()}
    shared: Progress | None = None
    if progress is not None:
        total = sum(store.size(job[1].path) for job in todo.values())
        progress.stage(f"layers ({len(todo)} at once)", total)
        shared = _SharedProgress(progress)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layerscope-walk") as pool:
        futures = {key: pool.submit(read, job, shared) for key, job in todo.items()}
        try:
            return {key: future.result() for key, future in futures.items()}
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise


class _SharedProgress:
    """One progress stage for layers read at once: their own stages are dropped."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._lock = threading.Lock()

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        return None

    def advance(self, done_bytes: int) -> None:
        with self._lock:
            self._progress.advance(done_bytes)


def _read_layer(
    store: BlobStore,
    layer_ref: LayerRef,
    diff_id: Digest,
    position: int,
    total: int,
    ctx: LoadContext,
) -> LayerScan:
    """Scan one layer blob, or take its contents from the layer cache (``ctx.index``).

    The cache rule (docs/architecture.md, "The layer cache and trust"): an entry keyed by the
    diff_id is served to any image, and is written only once the layer's uncompressed bytes
    hashed to that diff_id. A local uncompressed layer is walked without waiting for that hash:
    ``Check`` hashes it from its own file handle on another thread; if the command ends first,
    the walk is cached under ``local_key`` (this archive's identity and the claimed diff_id),
    which only a later read of the same unchanged file can hit. A one-shot command
    (``ctx.lasting`` False) does not hash a big local layer at all, compressed or not
    (``KeepLocal``: the local key only). For another compressed blob the sha256 runs on a
    second thread while the tar is walked.
    """
    index, defer, verify = ctx.index, ctx.defer, ctx.verify
    size = store.size(layer_ref.path)
    with store.open(layer_ref.path) as stream:
        head = stream.read(8)
        compression = sniff_compression(head)
        # A compressed blob named by no descriptor (crane, containerd's manifest.json) gets its
        # digest computed: cheap next to decompressing it.
        unnamed = layer_ref.digest is None and compression != "none"
        deferring = index is not None and defer is not None and not verify
        local = local_key(store, layer_ref.path, diff_id) if deferring else None
        # a one-shot command hashes no big local layer, compressed or not: the hash would be
        # stopped at its end anyway, and on two cores it slows the walk and the analysis
        unhashed = local is not None and size >= STOPPABLE_CHECK_BYTES and not ctx.lasting
        later = deferring and (compression == "none" or unhashed)
        cached = _cached(index, diff_id, local, verify)
        if cached is not None:
            digest = _sha256_of(prefixed(head, stream)) if unnamed else None
            return _served(cached, compression, digest, stream, size)
        scanned = Handoff()
        if later and index is not None and defer is not None:
            if unhashed and local is not None:
                defer(KeepLocal(local, index, scanned))
            else:
                # hashed from its own file handle on another thread, from now on: in parallel
                # with the walk and what follows, not after it; a check the command may stop at
                # its end only for a big layer that has a local key
                big = local is not None and size >= STOPPABLE_CHECK_BYTES
                defer(Check(store, layer_ref, position, diff_id, local, index, scanned, big))
        if ctx.progress is not None:
            ctx.progress.stage(f"layer {position + 1}/{total}", size)
        want_diff_id = verify or (index is not None and not later)
        want_digest = unnamed or (verify and layer_ref.digest is not None)
        # nothing to hash on the way: an uncompressed blob is walked in its file's page cache
        plain = compression == "none" and not (want_diff_id or want_digest)
        mapped = file_span(stream) if plain else None
        try:
            scan = scan_layer(
                mapped or prefixed(head, stream),
                want_diff_id=want_diff_id,
                want_digest=want_digest,
                progress=ctx.progress,
            )
            scan = with_gzip_estimate(scan, stream, size)
        except LayerFormatError as exc:
            scanned.give(None)
            raise LayerFormatError(
                f"{store.label}: layer {position} ({layer_ref.path}): {exc}"
            ) from exc
        except BaseException:
            scanned.give(None)
            raise
    return _settle(store.label, position, layer_ref, diff_id, scan, ctx, scanned, later)


def _served(
    cached: LayerContents, compression: str, digest: Digest | None, stream: IO[bytes], size: int
) -> LayerScan:
    """A layer's scan from its cached walk (``digest``: of the stored blob, when needed)."""
    scan = LayerScan(
        cached.entries,
        cached.size_bytes,
        cached.tar_size_bytes,
        compression,
        None,
        None,
        digest,
        cached.contents,
        cached.gzip_estimate_bytes if compression == "none" else None,
    )
    if scan.gzip_estimate_bytes is None:
        # cached before estimates were kept, or from a compressed copy: sampled from this
        # blob, for this image only (its bytes did not earn the cache key)
        scan = with_gzip_estimate(scan, stream, size)
    return scan


def _cached(
    index: LayerIndex | None, diff_id: Digest, local: Digest | None, verify: bool
) -> LayerContents | None:
    """The cached walk of a layer: by diff_id, else (the same unchanged file) by its local key;
    a local hit is trusted for this file only and not hashed again (a walk costs less than a
    sha256; --verify promotes it)."""
    if index is None or verify:
        return None
    cached = index.get(diff_id)
    if cached is None and local is not None:
        cached = index.get(local)
    return cached


def _settle(
    label: str,
    position: int,
    layer_ref: LayerRef,
    diff_id: Digest,
    scan: LayerScan,
    ctx: LoadContext,
    scanned: Handoff,
    later: bool,
) -> LayerScan:
    """After a walk: verify it and put it in the cache, or hand it to the background check."""
    if ctx.index is None:
        if ctx.verify:
            _verify(label, position, layer_ref.digest, diff_id, scan)
        return scan
    contents = LayerContents(
        scan.entries, scan.size_bytes, scan.tar_size_bytes, scan.contents, scan.gzip_estimate_bytes
    )
    stored = layer_ref.digest or scan.digest
    if later:
        scanned.give((contents, stored))
        return scan
    _verify(label, position, layer_ref.digest, diff_id, scan)
    ctx.index.put(diff_id, contents, digest=stored)
    return scan


STOPPABLE_CHECK_BYTES = 64 << 20
"""Local layers at least this big are not hashed by a one-shot command, and a lasting one does
not wait for their hash at its end (sha256 of 64 MiB takes about 50 ms here); smaller ones are
always verified before the command exits."""


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
