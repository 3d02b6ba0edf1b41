"""``scan``'s read phase: every distinct layer blob read once, fanned out, from the first
manifest listed on (the listing goes on meanwhile, on a thread of its own); each image analysed
as soon as its last layer is in, while the workers read the others.

The command composes three parts that do not know one another: the registry source
(``sources.registry_scan``: the listings and ``read_layer``, the task), the fan-out (``fanout``:
runs the tasks, never importing sources) and the layer cache (``store``: what an earlier scan
already read, and where this one's reads go).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..analysis.registry import ImageFacts
    from ..model import Digest, LayerIndex
    from ..sources.registry_scan import ManifestInfo, RegistryListing
    from ..sources.registry_scan_layer import LayerOutcome, LayerTask
    from .settings import ScanSettings

    Lister = Callable[[Callable[[ManifestInfo], None], threading.Event], list[RegistryListing]]
    """Lists the registries, handing on each image manifest as soon as it is known; stops
    early when the event is set."""


READ_LAYER = "layerscope.sources.registry_scan_layer:read_layer"
"""The task, by name (``--dask`` starts its relay with it before ``read_layer`` is imported)."""


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
        from ..render.units import size

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

    def grow(self, *, images: int, layers: int, done: int) -> None:
        """More images and layers listed (``done`` of those images need nothing read)."""
        self.images_total += images
        self.layers_total += layers
        self.update(images=done)

    def close(self) -> None:
        self._err.write("\r\x1b[K")
        self._err.flush()


@dataclass
class LayerReads:
    """The read phase's bookkeeping and its result."""

    outcomes: dict[Digest, LayerOutcome] = field(default_factory=dict)
    """Every distinct blob's outcome: from the layer cache, or read now (or why not)."""
    tasks: list[LayerTask] = field(default_factory=list)
    """The blobs read now (not in the cache), one task each, in the order they were handed on."""
    users: dict[Digest, list[Digest]] = field(default_factory=dict)
    """Blob digest -> the manifests that use it."""
    facts: dict[Digest, ImageFacts] = field(default_factory=dict)
    """Manifest digest -> the facts of its image, analysed as its last layer came in."""
    waiting: dict[Digest, int] = field(default_factory=dict)
    """Manifest digest -> distinct layers of it not in yet."""
    listings: list[RegistryListing] = field(default_factory=list)
    """What was listed (complete once ``read_layers`` returns)."""
    listed_s: float = 0.0
    """Seconds from the start until the listing was complete."""

    def executor(self, settings: ScanSettings) -> str:
        """Where the layers were read, for the report."""
        if settings.dask:
            return f"dask {settings.dask}"
        return f"{settings.workers} worker" + ("s" if settings.workers != 1 else "")


class _Reader:
    """The bookkeeping of the read phase, on two threads: each manifest the listing hands on
    (its layers not seen before: from the cache, else a task for the workers) and each outcome
    a worker delivers (into the cache; an image whose last layer it was is analysed at once)."""

    def __init__(
        self, cache: LayerIndex | None, settings: ScanSettings, progress: ScanProgress | None
    ) -> None:
        from ..fanout import TaskFeed

        self.reads = LayerReads()
        self.cache = cache
        self.settings = settings
        self.progress = progress
        self.feed: TaskFeed[LayerTask] = TaskFeed()
        self.infos: dict[Digest, ManifestInfo] = {}
        self._asked: set[Digest] = set()
        self._lock = threading.Lock()

    def on_manifest(self, info: ManifestInfo) -> None:
        """A manifest listed: its new layers looked up in the cache or handed to the workers."""
        from ..sources.registry import _compression_of
        from ..sources.registry_scan_layer import LayerOutcome, LayerTask

        reads, source = self.reads, self.settings.sources
        with self._lock:
            self.infos[info.manifest_digest] = info
            blobs = {b.digest: b for b in info.layers}
            new: list[LayerTask] = []
            for digest, blob in blobs.items():
                reads.users.setdefault(digest, []).append(info.manifest_digest)
                if digest in self._asked:
                    continue
                self._asked.add(digest)
                known = self.cache.get(blob.diff_id) if self.cache is not None else None
                if known is not None:
                    reads.outcomes[digest] = LayerOutcome(
                        digest, blob.diff_id, known, _compression_of(blob.media_type), 0
                    )
                else:
                    task = LayerTask(
                        info.registry,
                        info.repository,
                        blob,
                        source.insecure_registries,
                        source.credentials,
                    )
                    reads.tasks.append(task)
                    new.append(task)
            waiting = sum(1 for d in blobs if d not in reads.outcomes)
            reads.waiting[info.manifest_digest] = waiting
            for task in new:  # in the order of reads.tasks: the fan-out numbers them so
                self.feed.put(task)
            if self.progress is not None:
                self.progress.grow(images=1, layers=len(new), done=int(waiting == 0))
        if waiting == 0:
            self._analyse(info.manifest_digest)  # outside the lock: results go on meanwhile

    def on_result(self, i: int, outcome: LayerOutcome) -> None:
        reads = self.reads
        finished: list[Digest] = []
        with self._lock:
            reads.outcomes[outcome.digest] = outcome
            if outcome.contents is not None and self.cache is not None:
                self.cache.put(outcome.diff_id, outcome.contents, digest=outcome.digest)
            for m in set(reads.users[outcome.digest]):
                reads.waiting[m] -= 1
                if reads.waiting[m] == 0:
                    finished.append(m)
            if self.progress is not None:
                self.progress.update(layers=1, images=len(finished), read=outcome.bytes_read)
        for m in finished:  # now, while the workers read other layers; outside the lock, so
            self._analyse(m)  # that the listing hands on more layers meanwhile

    def _analyse(self, manifest: Digest) -> None:
        """The facts of an image whose every layer is in (outcomes and infos only grow)."""
        from ..analysis.registry import image_facts
        from ..sources.registry_scan import image_of

        with self._lock:
            info, outcomes = self.infos[manifest], dict(self.reads.outcomes)
        if all(outcomes[b.digest].error is None for b in info.layers):
            facts = image_facts(image_of(info, (), outcomes))
            with self._lock:
                self.reads.facts[manifest] = facts

    def lost(self, i: int, why: str) -> LayerOutcome:
        from ..sources.registry_scan_layer import LayerOutcome

        task = self.reads.tasks[i]
        label = f"{task.registry}/{task.repository}@{task.blob.digest}"
        return LayerOutcome(task.blob.digest, task.blob.diff_id, None, "none", 0, f"{label}: {why}")

    def listing(self, lister: Lister, cancel: threading.Event, started: float) -> None:
        """The listing thread: every manifest handed on, then the feed closed (or failed)."""
        try:
            self.reads.listings = lister(self.on_manifest, cancel)
        except BaseException as exc:  # noqa: BLE001 - raised on the caller's thread
            self.feed.fail(exc)
            return
        self.reads.listed_s = time.monotonic() - started
        self.feed.close()


def _import_analysis() -> None:
    """Thread: import what analysing an image and the report need (only a head start: an
    import that fails here fails again where it is needed, and says so there)."""
    import importlib

    for module in ("analysis.registry", "analysis.suggest", "analysis.dive", "render.scan"):
        try:
            importlib.import_module(f"layerscope.{module}")
        except Exception:  # noqa: BLE001
            return


def read_layers(
    lister: Lister,
    cache: LayerIndex | None,
    settings: ScanSettings,
    err: IO[str],
    started: float,
) -> LayerReads:
    """List (``lister``, on a thread of its own) and, meanwhile, read every layer the cache
    does not hold, on ``settings``' workers or Dask scheduler, from the first manifest listed
    on; a status line on ``err`` when it is a terminal (unless --quiet)."""
    from ..fanout import run_tasks
    from ..sources.registry_scan_layer import read_layer

    show = not settings.sources.quiet and err.isatty()
    progress = ScanProgress(err, 0, 0) if show else None
    reader = _Reader(cache, settings, progress)
    cancel = threading.Event()
    # the analysis's modules (a tenth of a second of imports) load while the listing waits
    # on its first answers, not in the first image's analysis, where they held up the
    # hand-over of every layer listed meanwhile
    threading.Thread(target=_import_analysis, name="layerscope-imports", daemon=True).start()
    listing = threading.Thread(
        target=reader.listing,
        args=(lister, cancel, started),
        name="layerscope-listing",
        daemon=True,
    )
    listing.start()
    try:
        run_tasks(
            read_layer,
            reader.feed,
            on_result=reader.on_result,
            lost=reader.lost,
            workers=settings.workers,
            dask=settings.dask,
            name=lambda t: t.blob.digest.replace(":", "-"),
            weight=lambda t: t.blob.size,
        )
    finally:
        cancel.set()  # a failed or interrupted read stops the listing too
        if progress is not None:
            progress.close()
    listing.join()
    return reader.reads
