"""``scan``'s read phase: every distinct layer blob read once, fanned out; each image analysed
as soon as its last layer is in, while the workers read the others.

The command composes three parts that do not know one another: the registry source
(``sources.registry_scan``: the listings and ``read_layer``, the task), the fan-out (``fanout``:
runs the tasks, never importing sources) and the layer cache (``store``: what an earlier scan
already read, and where this one's reads go).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis.registry import ImageFacts
    from ..model import Digest, LayerIndex
    from ..sources.registry_scan import ManifestInfo, RegistryListing
    from ..sources.registry_scan_layer import BlobRef, LayerOutcome, LayerTask
    from .settings import ScanSettings


class ScanProgress:
    """One status line on stderr: images and layers done of total, bytes read, rate."""

    def __init__(self, err: IO[str], images: int, layers: int) -> None:
        self._err = err
        self.images_total = images
        self.layers_total = layers
        self.images_done = 0
        self.layers_done = 0
        self.bytes = 0
        self._start = time.monotonic()
        self._shown = 0.0

    def update(self, *, layers: int = 0, images: int = 0, read: int = 0) -> None:
        from ..render.text import size

        self.layers_done += layers
        self.images_done += images
        self.bytes += read
        now = time.monotonic()
        if now - self._shown < 0.1 and self.layers_done < self.layers_total:
            return
        self._shown = now
        rate = self.bytes / max(now - self._start, 1e-6)
        self._err.write(
            f"\rimages {self.images_done}/{self.images_total} · layers "
            f"{self.layers_done}/{self.layers_total} · {size(self.bytes)} read · "
            f"{size(int(rate))}/s \x1b[K"
        )
        self._err.flush()

    def close(self) -> None:
        self._err.write("\r\x1b[K")
        self._err.flush()


@dataclass
class LayerReads:
    """The read phase's bookkeeping and its result."""

    outcomes: dict[Digest, LayerOutcome] = field(default_factory=dict)
    """Every distinct blob's outcome: from the layer cache, or read now (or why not)."""
    tasks: list[LayerTask] = field(default_factory=list)
    """The blobs read now (not in the cache), one task each."""
    users: dict[Digest, list[Digest]] = field(default_factory=dict)
    """Blob digest -> the manifests that use it."""
    facts: dict[Digest, ImageFacts] = field(default_factory=dict)
    """Manifest digest -> the facts of its image, analysed as its last layer came in."""
    waiting: dict[Digest, int] = field(default_factory=dict)
    """Manifest digest -> layers of it not in yet."""

    def executor(self, settings: ScanSettings) -> str:
        """Where the layers were read, for the report."""
        if settings.dask:
            return f"dask {settings.dask}"
        return f"{settings.workers} worker" + ("s" if settings.workers != 1 else "")


def plan_reads(
    listings: list[RegistryListing], cache: LayerIndex | None, settings: ScanSettings
) -> LayerReads:
    """Each distinct blob once: served by the cache when it holds the layer, else a task."""
    from ..sources.registry import _compression_of
    from ..sources.registry_scan_layer import LayerOutcome, LayerTask

    reads = LayerReads()
    blobs: dict[Digest, tuple[str, str, BlobRef]] = {}
    for listing in listings:
        for info in listing.manifests.values():
            for blob in info.layers:
                blobs.setdefault(blob.digest, (listing.registry, info.repository, blob))
                reads.users.setdefault(blob.digest, []).append(info.manifest_digest)
    source = settings.sources
    for digest, (registry, repository, blob) in blobs.items():
        known = cache.get(blob.diff_id) if cache is not None else None
        if known is not None:
            reads.outcomes[digest] = LayerOutcome(
                digest, blob.diff_id, known, _compression_of(blob.media_type), 0
            )
        else:
            task = LayerTask(
                registry, repository, blob, source.insecure_registries, source.credentials
            )
            reads.tasks.append(task)
    reads.waiting = {
        m: sum(1 for b in info.layers if b.digest not in reads.outcomes)
        for listing in listings
        for m, info in listing.manifests.items()
    }
    return reads


class _Reader:
    """Takes each outcome as a worker delivers it: into the cache, and an image whose last
    layer it was is analysed at once."""

    def __init__(
        self,
        reads: LayerReads,
        listings: list[RegistryListing],
        cache: LayerIndex | None,
        progress: ScanProgress | None,
    ) -> None:
        self.reads = reads
        self.cache = cache
        self.progress = progress
        self.infos: dict[Digest, ManifestInfo] = {
            m: info for listing in listings for m, info in listing.manifests.items()
        }

    def on_result(self, i: int, outcome: LayerOutcome) -> None:
        from ..analysis.registry import image_facts
        from ..sources.registry_scan import image_of

        reads = self.reads
        reads.outcomes[outcome.digest] = outcome
        if outcome.contents is not None and self.cache is not None:
            self.cache.put(outcome.diff_id, outcome.contents, digest=outcome.digest)
        finished = 0
        for m in set(reads.users[outcome.digest]):
            reads.waiting[m] -= 1
            if reads.waiting[m] == 0:
                finished += 1
                # analysed now, while the workers read other layers
                info = self.infos[m]
                if all(reads.outcomes[b.digest].error is None for b in info.layers):
                    reads.facts[m] = image_facts(image_of(info, (), reads.outcomes))
        if self.progress is not None:
            self.progress.update(layers=1, images=finished, read=outcome.bytes_read)

    def lost(self, i: int, why: str) -> LayerOutcome:
        from ..sources.registry_scan_layer import LayerOutcome

        task = self.reads.tasks[i]
        label = f"{task.registry}/{task.repository}@{task.blob.digest}"
        return LayerOutcome(task.blob.digest, task.blob.diff_id, None, "none", 0, f"{label}: {why}")


def read_layers(
    listings: list[RegistryListing],
    cache: LayerIndex | None,
    settings: ScanSettings,
    err: IO[str],
) -> LayerReads:
    """Read every layer the cache does not hold, on ``settings``' workers or Dask scheduler,
    with a status line on ``err`` when it is a terminal (unless --quiet)."""
    from ..fanout import run_tasks
    from ..sources.registry_scan_layer import read_layer

    reads = plan_reads(listings, cache, settings)
    image_count = sum(len(listing.manifests) for listing in listings)
    show = not settings.sources.quiet and err.isatty()
    progress = ScanProgress(err, image_count, len(reads.tasks)) if show else None
    if progress is not None:
        progress.update(images=sum(1 for n in reads.waiting.values() if n == 0))
    reader = _Reader(reads, listings, cache, progress)
    try:
        run_tasks(
            read_layer,
            reads.tasks,
            on_result=reader.on_result,
            lost=reader.lost,
            workers=settings.workers,
            dask=settings.dask,
            names=[t.blob.digest.replace(":", "-") for t in reads.tasks],
        )
    finally:
        if progress is not None:
            progress.close()
    return reads
