"""``layerscope scan REGISTRY_REF``: every image of a registry at once, each layer read once."""

from __future__ import annotations

import argparse
import threading
import time
from functools import partial
from typing import IO, TYPE_CHECKING, Any

from ..render.scan_formats import SCAN_FORMATS, ScanSubject
from .common import (
    Background,
    Streams,
    emit,
)
from .htmlout import add_html_option, html_plan, html_took_hint
from .output import add_format_options, render_output
from .settings import ScanSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..analysis.registry import RegistryReport, ScannedImage
    from ..model import Digest, Platform
    from ..render.scan import ScanStats
    from ..sources.registry_scan import ManifestInfo, RegistryListing
    from ..sources.registry_scan_layer import LayerOutcome
    from ..store import LayerCache
    from .scan_read import LayerReads, Lister

SCAN_TARGET_HELP = (
    "registry://HOST (every repository in its catalog) or registry://HOST/NAMESPACE "
    "(the repositories under it); leave out with --refs"
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``scan``."""
    parser = sub.add_parser(
        "scan",
        help="a whole registry at once: sharing, bases, findings; each layer read once",
        description=(
            "Analyse every image of a registry (or a list of references) at once: how much is "
            "shared, what deleting each image would free, which bases the images sit on and "
            "which base versions are stale, and findings summed over all images (toolchains, "
            "package caches, __pycache__, duplicate large files, model files in volatile "
            "layers). Each distinct manifest is analysed once and each distinct layer blob read "
            "once, through the layer cache (a second scan reads nothing it already read). "
            "Layers are read in local worker processes (--workers) or on a Dask scheduler "
            "(--dask). Exit 1 when some layers or tags could not be read (the report lists "
            "them and covers everything else). --html: a self-contained page with the totals, "
            "stored against shared bytes, every image, the bases, findings and what was not read."
        ),
    )
    parser.add_argument("target", nargs="?", metavar="REGISTRY_REF", help=SCAN_TARGET_HELP)
    parser.add_argument(
        "--refs",
        metavar="FILE",
        help="scan the images named in FILE (one reference per line, any reference form; "
        "registry://HOST/REPO without a tag means every tag)",
    )
    parser.add_argument("--tags", metavar="GLOB", help="only tags matching GLOB (default: all)")
    parser.add_argument(
        "--latest", type=int, metavar="N", help="only the N newest tags of each repository"
    )
    parser.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="only this platform of multi-platform images (default: every platform)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="read layers in N local worker processes (default 1: in this process)",
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="read layers on the Dask scheduler at ADDRESS (tcp://HOST:PORT), one task per "
        "layer (small layers that wait while the workers are busy go several to a task); "
        "needs pip install 'layerscope[dask]'",
    )
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="allow plain HTTP / unverified TLS for this registry host (repeatable)",
    )
    parser.add_argument("--creds", metavar="USER:PASSWORD", help="registry credentials")
    parser.add_argument(
        "--no-cache", action="store_true", help="neither read nor fill the layer index cache"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    parser.add_argument(
        "--top", type=int, default=20, metavar="N", help="images listed in the text report"
    )
    add_format_options(parser, SCAN_FORMATS)
    add_html_option(parser)


def start_early(words: Sequence[str]) -> Callable[[], None] | None:
    """``scan ... --dask ADDRESS`` (``cli.main``'s hook, before the parser is built): the relay
    (the Dask client's process) starts now, while the other core idles through this one's
    start-up; ``run`` adopts it. Only the plain spellings count (an abbreviated option starts
    it in ``run``). Returns what ends a relay nothing adopted, or None when none was started."""
    address = None
    for i, word in enumerate(words):
        if word == "--":
            break
        if word == "--dask" and i + 1 < len(words):
            address = words[i + 1]
        elif word.startswith("--dask="):
            address = word.partition("=")[2]
    if not address or address.startswith("-"):
        return None
    from ..fanout.dask_relay import discard_early
    from ..fanout.dask_relay import start_early as start_relay
    from .scan_read import READ_LAYER

    start_relay(READ_LAYER, address)
    return discard_early


def _parse_target(text: str) -> tuple[str, str | None]:
    from ..errors import UsageError

    if not text.startswith("registry://"):
        raise UsageError(
            f"scan: {text!r} is not a registry reference (use registry://HOST[/NAMESPACE])"
        )
    body = text.removeprefix("registry://").strip("/")
    host, _, namespace = body.partition("/")
    if not host:
        raise UsageError(f"scan: {text!r} names no registry host")
    return host, namespace or None


def _read_refs(path: str) -> list[str]:
    from pathlib import Path

    from ..errors import UsageError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read --refs file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"--refs file {path} is not UTF-8 text") from exc
    refs = [line.strip() for line in text.splitlines()]
    return [r for r in refs if r and not r.startswith("#")]


def run(args: argparse.Namespace, streams: Streams, background: Background) -> int:
    """List, read each unique layer once (fanned out), analyse, report."""
    from ..errors import UsageError
    from ..platforms import parse_platform

    if not args.target and not args.refs:
        raise UsageError(
            "scan: name a registry (registry://HOST[/NAMESPACE]) or --refs FILE"
            + html_took_hint(args.html)
        )
    if args.target and args.refs:
        raise UsageError("scan: give a registry or --refs FILE, not both")
    if args.latest is not None and args.latest < 1:
        raise UsageError("scan: --latest must be at least 1")
    if args.workers < 1:
        raise UsageError("scan: --workers must be at least 1")
    html_plan(args)  # a conflicting --html / --format is refused before the registry is read
    platform = parse_platform(args.platform) if args.platform else None
    settings = ScanSettings.from_args(args)
    if settings.dask is None:
        return _scan(args, streams, background, settings, platform)
    from ..fanout.dask_relay import discard_early, start_early
    from .scan_read import READ_LAYER

    # the Dask client's process imports distributed and connects while this one starts up
    start_early(READ_LAYER, settings.dask)
    try:
        return _scan(args, streams, background, settings, platform)
    finally:
        discard_early()


def _scan(
    args: argparse.Namespace,
    streams: Streams,
    background: Background,
    settings: ScanSettings,
    platform: Platform | None,
) -> int:
    started = time.monotonic()
    lister, others = _lister(settings, platform)
    cache = _layer_cache(settings, streams.err)
    from .scan_read import read_layers

    # listing and reading overlap: a layer is read as soon as a manifest naming it is listed
    reads = read_layers(lister, cache, settings, streams.err, started)
    listings = reads.listings
    stages = {"listing": reads.listed_s, "reading": time.monotonic() - started}
    analysing = time.monotonic()
    scanned = _scanned(listings, reads.outcomes)
    scanned.extend(_local_images(settings, streams, background, others))
    if cache is not None:
        for note in cache.warnings:
            print(f"layerscope: warning: {note}", file=streams.err)
        cache.close()
    report = _report(listings, others, scanned, reads)
    stages["report"] = time.monotonic() - analysing
    stats = _stats(listings, reads, reads.executor(settings), started, stages)
    emit(_render(args, streams, report, stats), args.output, streams.out)
    failed = any(o.error for o in reads.outcomes.values()) or any(
        listing.problems for listing in listings
    )
    return 1 if failed else 0


def _layer_cache(settings: ScanSettings, err: IO[str]) -> LayerCache | None:
    """The layer cache (None with --no-cache, or when it cannot be used: a warning says so)."""
    from ..errors import StoreError
    from ..store import LayerCache

    if settings.sources.no_cache:
        return None
    try:
        return LayerCache()
    except StoreError as exc:
        print(f"layerscope: warning: layer cache not used: {exc.message}", file=err)
        return None


def _lister(settings: ScanSettings, platform: Platform | None) -> tuple[Lister, list[str]]:
    """What lists the registries to scan (run by the read phase, beside the reading), and the
    references of other sources (--refs, read here before anything starts)."""
    from ..errors import StoreError
    from ..model import SourceKind
    from ..refs import split_name
    from ..sources import parse_ref
    from ..sources.registry_scan import list_registry
    from ..store import BlobCache

    keeper = None
    if not settings.sources.no_cache:
        try:
            keeper = BlobCache()
        except StoreError:
            keeper = None  # configs and manifests are fetched again; nothing else changes
    listing = partial(
        list_registry,
        keeper=keeper,
        tag_glob=settings.tags,
        latest=settings.latest,
        platform=platform,
        insecure=settings.sources.insecure_registries,
        credentials=settings.sources.credentials,
    )
    plans: list[tuple[str, dict[str, Any]]] = []
    others: list[str] = []
    if settings.target:
        host, namespace = _parse_target(settings.target)
        plans.append((host, {"namespace": namespace}))
    else:
        per_registry: dict[str, list[tuple[str, str | None]]] = {}
        for text in _read_refs(settings.refs or ""):
            ref = parse_ref(text)
            if ref.kind is not SourceKind.REGISTRY:
                others.append(text)
                continue
            registry, repository, tag, digest = split_name(ref.location)
            explicit = digest or (
                tag if ":" in text.removeprefix("registry://").rsplit("/", 1)[-1] else None
            )
            per_registry.setdefault(registry, []).append((repository, explicit))
        plans += [(r, {"names": names}) for r, names in sorted(per_registry.items())]

    def lister(
        on_manifest: Callable[[ManifestInfo], None], cancel: threading.Event
    ) -> list[RegistryListing]:
        return [listing(host, on_manifest=on_manifest, cancel=cancel, **how) for host, how in plans]

    return lister, others


def _report(
    listings: list[RegistryListing],
    others: list[str],
    scanned: list[ScannedImage],
    reads: LayerReads,
) -> RegistryReport:
    """The registry report over every image scanned (``others``: the --refs images loaded
    whole, each its own repository unless a listing holds it)."""
    from ..analysis.registry import registry_report

    repositories = sum(len(listing.repositories) for listing in listings) + len(
        {
            s.repository
            for s in scanned
            if not s.repository.startswith(tuple(listing.registry + "/" for listing in listings))
        }
    )
    tag_count = sum(len(listing.tags) for listing in listings) + len(others)
    return registry_report(scanned, repositories=repositories, tags=tag_count, facts=reads.facts)


def _scanned(
    listings: list[RegistryListing], outcomes: dict[Digest, LayerOutcome]
) -> list[ScannedImage]:
    from ..analysis.registry import ScannedImage
    from ..sources.registry_scan import image_of

    out: list[ScannedImage] = []
    for listing in listings:
        tags_of: dict[Digest, list[str]] = {}
        for tag in listing.tags:
            for m in tag.manifests:
                tags_of.setdefault(m, []).append(tag.tag)
        for digest, info in sorted(listing.manifests.items()):
            tags = tuple(sorted(tags_of.get(digest, [])))
            errors = [outcomes[b.digest].error for b in info.layers if outcomes[b.digest].error]
            image = None if errors else image_of(info, tags, outcomes)
            plat = info.platform
            out.append(
                ScannedImage(
                    repository=f"{listing.registry}/{info.repository}",
                    tags=tags,
                    manifest_digest=digest,
                    platform=f"{plat.os}/{plat.architecture}"
                    + (f"/{plat.variant}" if plat.variant else ""),
                    created=info.created,
                    blobs=tuple((b.digest, b.size) for b in info.layers),
                    image=image,
                    error=errors[0] if errors else None,
                )
            )
    return out


def _local_images(
    settings: ScanSettings, streams: Streams, background: Background, refs: list[str]
) -> list[ScannedImage]:
    """Images of --refs lines that are not registry references, loaded whole here."""
    if not refs:
        return []
    from ..analysis.registry import ScannedImage
    from ..model import Digest
    from .common import open_sources, say_warnings

    out: list[ScannedImage] = []
    session = open_sources(settings.sources, background)
    try:
        for ref in refs:
            image = session.load(ref, progress=None)
            plat = image.platform
            digest = image.manifest_digest or image.image_id
            out.append(
                ScannedImage(
                    repository=(image.repo_tags[0].rsplit(":", 1)[0] if image.repo_tags else ref),
                    tags=tuple(t.rsplit(":", 1)[-1] for t in image.repo_tags),
                    manifest_digest=Digest(digest),
                    platform=f"{plat.os}/{plat.architecture}",
                    created=image.created,
                    blobs=tuple(
                        (
                            layer.digest or layer.diff_id,
                            layer.compressed_size_bytes or layer.size_bytes,
                        )
                        for layer in image.layers
                    ),
                    image=image,
                )
            )
    finally:
        say_warnings(session, streams.err)
        session.close()
    return out


def _stats(
    listings: list[RegistryListing],
    reads: LayerReads,
    executor: str,
    started: float,
    stages: dict[str, float],
) -> ScanStats:
    """What the scan read, from where, how long each stage took, and what failed."""
    from ..render.scan import LayerFailure, ScanStats

    outcomes, tasks, users = reads.outcomes, reads.tasks, reads.users
    repo_of = {
        b.digest: f"{listing.registry}/{info.repository}"
        for listing in listings
        for info in listing.manifests.values()
        for b in info.layers
    }
    names = {
        info.manifest_digest: f"{listing.registry}/{info.repository}@{info.manifest_digest}"
        for listing in listings
        for info in listing.manifests.values()
    }
    failures = tuple(
        LayerFailure(
            d,
            repo_of.get(d, ""),
            o.error or "",
            tuple(sorted({names[m] for m in users.get(d, []) if m in names})),
        )
        for d, o in sorted(outcomes.items())
        if o.error
    )
    return ScanStats(
        registry=", ".join(listing.registry for listing in listings) or "(local)",
        layers_read=sum(1 for t in tasks if outcomes[t.blob.digest].error is None),
        layers_cached=len(outcomes) - len(tasks),
        bytes_read=sum(o.bytes_read for o in outcomes.values()),
        seconds=time.monotonic() - started,
        stages=tuple(stages.items()),
        executor=executor,
        failures=failures,
        problems=tuple((p.subject, p.message) for listing in listings for p in listing.problems),
    )


def _render(
    args: argparse.Namespace, streams: Streams, report: RegistryReport, stats: ScanStats
) -> str:
    """The report in the format asked for (and the page beside it, with --html FILE)."""
    return render_output(args, streams, SCAN_FORMATS, ScanSubject(report, stats, top=args.top))
