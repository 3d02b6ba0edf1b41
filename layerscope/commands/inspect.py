"""``layerscope inspect REF``: layers, files and waste of one image."""

from __future__ import annotations

import argparse
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..analysis.cache import CacheHistory, LayerState
    from ..analysis.suggest import SuggestionReport
    from ..dockerfile import Dockerfile
    from ..model import Image
    from ..store import LayerCache

from ..collector import made_frozen
from ..errors import UsageError
from ..render.inspect_formats import INSPECT_FORMATS, InspectSubject
from .common import (
    REF_HELP,
    Background,
    Streams,
    add_source_options,
    add_store_option,
    emit,
    layer_files,
    open_sources,
    outlive,
    read_dockerfile,
    sources_for,
)
from .htmlout import add_html_option, html_plan
from .output import add_format_options, render_output
from .recording import HistoryAccess
from .settings import ImageSettings, ProveSettings, add_prove_options


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``inspect``."""
    parser = sub.add_parser(
        "inspect",
        help="layers, files and waste of one image",
        description=(
            "Analyse one image: per-layer sizes (uncompressed and stored), added / modified / "
            "removed files, dive-compatible efficiency, and reclaimable bytes with the reason "
            "and the instructions behind each, and suggestions. At a terminal it opens an "
            "interactive browser (press ? for its keys); --text prints a summary, --json a "
            "document (schema in docs/json-schema.md) and --html a self-contained page (the "
            "same as layerscope report)."
        ),
    )
    parser.add_argument("ref", metavar="REF", help=REF_HELP)
    add_format_options(parser, INSPECT_FORMATS)
    add_html_option(parser)
    add_source_options(parser)
    add_image_options(parser)
    parser.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="reclaimable files to list in the text summary (default 10)",
    )
    parser.add_argument(
        "--context",
        metavar="DIR",
        help="the build context of --dockerfile (default: the Dockerfile's folder): its "
        ".dockerignore is read, and --prove builds in a copy of it",
    )
    add_prove_options(parser)


def add_image_options(parser: argparse.ArgumentParser) -> None:
    """--base, --store and --dockerfile: what ``analyse`` reads besides the image."""
    parser.add_argument(
        "--base", metavar="REF", help="the base image: its layers count as base, the rest as yours"
    )
    add_store_option(parser)
    parser.add_argument(
        "--dockerfile",
        "-f",
        metavar="FILE",
        help="the Dockerfile it was built from: decides which layers are the base image's, "
        "and places suggestions (and their patch) at its lines",
    )


def run(args: argparse.Namespace, streams: Streams, background: Background) -> int:
    """Load, analyse, (prove,) print or browse."""
    settings = ImageSettings.from_args(args)
    prove = ProveSettings.from_args(args)
    if prove is not None and not settings.dockerfile:
        raise UsageError("--prove needs --dockerfile (the Dockerfile to build)")
    history = HistoryAccess(settings.store)
    tui = args.format is None and args.html is None and not args.output and streams.out.isatty()
    if tui and prove is None:
        return _run_tui(settings, streams, background, history, args.context)
    if not tui:
        html_plan(args)  # a conflicting --html / --format is refused before the image is read
    # --prove builds before the interface opens: its progress goes to stderr
    analysis, suggestions = analyse(
        settings, streams, background, history, context=args.context, prove=prove
    )
    if tui:
        ready = (analysis, suggestions)
        return _run_tui(settings, streams, background, history, args.context, ready)
    image = analysis.image
    subject = InspectSubject(
        analysis,
        suggestions,
        top=args.top,
        history=lambda: cache_history_of(settings, history, image),
    )
    text = render_output(args, streams, INSPECT_FORMATS, subject)
    emit(text, args.output, streams.out)
    outlive(analysis, suggestions, subject, text)  # freed with the process (the console script)
    return 0


def analyse(
    settings: ImageSettings,
    streams: Streams,
    background: Background,
    history: HistoryAccess,
    *,
    context: str | None = None,
    prove: ProveSettings | None = None,
) -> tuple[Analysis, SuggestionReport]:
    """Load the image (and ``--base``), record it, analyse it and make the suggestions; with
    ``prove``, build and measure them (else show an earlier proof of the same patch)."""
    from ..analysis import analyze

    dockerfile = read_dockerfile(settings.dockerfile) if settings.dockerfile else None
    with sources_for(settings.sources, streams, background) as sources:
        image = sources.load(settings.ref)
        base = sources.load(settings.base, progress=None) if settings.base else None
    count = None
    if dockerfile is not None and base is None:
        from ..dockerfile import base_layer_count

        count = base_layer_count(dockerfile, image)
    # The image and analysis live until the output is written: out of the collector's
    # generations, the full collections that rendering triggers need not walk every entry.
    analysis = made_frozen(lambda: analyze(image, base_image=base, dockerfile_base_count=count))
    base_count = analysis.base.count if analysis.base.method.value != "default" else None
    history.record(image, streams.err, ref=settings.ref, base_layer_count=base_count)
    return analysis, _suggestions(analysis, settings, dockerfile, context, streams, prove)


def _suggestions(
    analysis: Analysis,
    settings: ImageSettings,
    dockerfile: Dockerfile | None,
    context: str | None,
    streams: Streams,
    prove: ProveSettings | None = None,
) -> SuggestionReport:
    """The suggestions, with the measured figures of this run's proof (``prove``) or of an
    earlier one kept for the same image, Dockerfile and patch."""
    from ..analysis.suggest import suggest

    if dockerfile is None or not settings.dockerfile:
        return suggest(analysis)
    from .proofs import ProofInputs, prove_report, recall_proof
    from .suggest import context_inputs

    quiet = Streams(streams.out, io.StringIO())  # where a patch applies: inspect prints none
    ignore, paths = context_inputs(settings.dockerfile, context, None, quiet)
    report = suggest(analysis, dockerfile=dockerfile, dockerignore=ignore, paths=paths)
    image_id = str(analysis.image.image_id)
    inputs = ProofInputs(image_id, dockerfile, settings.dockerfile, ignore, paths)
    if prove is not None:
        return prove_report(prove, streams.err, report, inputs)[0]
    return recall_proof(report, inputs)


def _run_tui(
    settings: ImageSettings,
    streams: Streams,
    background: Background,
    history: HistoryAccess,
    context: str | None,
    ready: tuple[Analysis, SuggestionReport] | None = None,
) -> int:
    """The Textual app; the image is loaded and analysed in its worker thread, suggestions in
    another one, the build history when the History screen asks for it. ``ready``: the analysis
    and the suggestions made before (``--prove``)."""
    from ..analysis import analyze
    from ..model import Progress
    from ..tui import run_inspect

    base: list[Image | None] = [None]
    dockerfile = read_dockerfile(settings.dockerfile) if settings.dockerfile else None

    def load(progress: Progress) -> Image:
        if ready is not None:
            return ready[0].image
        # opened in the worker thread; a TUI stays open: big local layers are worth hashing
        session = open_sources(settings.sources, background, lasting=True)
        try:
            image = session.load(settings.ref, progress=progress)
            if settings.base:
                progress.stage(f"Reading the base image {settings.base}")
                base[0] = session.load(settings.base, progress=None)
        finally:
            session.close()
        return image

    def analyse(image: Image) -> Analysis:
        if ready is not None:
            return ready[0]
        count = None
        if dockerfile is not None and base[0] is None:
            from ..dockerfile import base_layer_count

            count = base_layer_count(dockerfile, image)
        analysis = made_frozen(
            lambda: analyze(image, base_image=base[0], dockerfile_base_count=count)
        )
        quiet = io.StringIO()  # a warning must not scribble on the screen
        base_count = analysis.base.count if analysis.base.method.value != "default" else None
        history.record(image, quiet, ref=settings.ref, base_layer_count=base_count)
        return analysis

    def cache_states(image: Image) -> list[LayerState] | None:
        return layer_cache_states(history, image, settings.ref)

    def builds(image: Image) -> CacheHistory | None:
        return cache_history_of(settings, history, image)

    writer = None
    if dockerfile is not None and settings.dockerfile:
        from .suggest import patch_writer

        writer = patch_writer(settings.dockerfile)

    def suggester(analysis: Analysis) -> SuggestionReport:
        if ready is not None:
            return ready[1]
        return _suggestions(analysis, settings, dockerfile, context, streams)

    return run_inspect(
        load,
        settings.ref,
        analyzer=analyse,
        cache_states=cache_states,
        history_loader=builds,
        suggester=suggester,
        patch_writer=writer,
    )


def cache_history_of(
    settings: ImageSettings, history: HistoryAccess, image: Image
) -> CacheHistory | None:
    """The recorded builds of the image's repository with their cache verdicts; None when
    nothing is recorded or the store cannot be read."""
    from ..analysis.cache import cache_history

    builds = history.builds(image, settings.ref)
    if not builds:
        return None
    known = {layer.diff_id: layer.entries for layer in image.layers}
    cache = None if settings.sources.no_cache else _layer_cache()
    try:
        return cache_history(builds, files=layer_files(known, cache))
    finally:
        if cache is not None:
            cache.close()


def _layer_cache() -> LayerCache | None:
    """The layer cache for reading earlier builds' files (None when it cannot be opened)."""
    from ..errors import StoreError
    from ..store import LayerCache

    try:
        return LayerCache()
    except StoreError:
        return None


def layer_cache_states(history: HistoryAccess, image: Image, ref: str) -> list[LayerState] | None:
    """Hit or miss per layer against the previous recorded build of the same repository
    (design.md's cache definition); None when there is no previous build to compare with."""
    from ..analysis.cache import LayerState, cache_history

    for build in cache_history(history.builds(image, ref)).builds:
        if build.build.image_id == image.image_id:
            if build.hits is None:
                return None
            return [LayerState.HIT if hit else LayerState.MISS for hit in build.hits]
    return None
