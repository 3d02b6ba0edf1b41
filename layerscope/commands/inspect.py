"""``layerscope inspect REF``: layers, files and waste of one image."""

from __future__ import annotations

import argparse
import gc
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..analysis.cache import CacheHistory, LayerState
    from ..analysis.suggest import SuggestionReport
    from ..dockerfile import Dockerfile
    from ..model import Image
    from ..store import LayerCache

from .common import (
    REF_HELP,
    Streams,
    add_output_options,
    add_source_options,
    add_store_option,
    emit,
    layer_files,
    open_sources,
    record,
    recorded_builds,
    sources_for,
    text_width,
    use_color,
)
from .htmlout import add_html_option, html_plan, link, write_beside


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
    add_output_options(parser, ("text", "json", "html"))
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


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Load, analyse, print."""
    if args.format is None and args.html is None and not args.output and streams.out.isatty():
        return _run_tui(args, streams)
    plan = html_plan(args)
    analysis, suggestions = analyse(args, streams)
    page = None
    if plan.format == "html" or plan.beside:
        from ..render.html import render_inspect_html

        page = render_inspect_html(analysis, suggestions, cache_history_of(args, analysis.image))
        if plan.beside:
            write_beside(plan.beside, page)
    if plan.format == "html":
        text = page or ""
    elif plan.format == "json":
        from ..render.json import dumps, inspect_document

        # pretty for a person at a terminal, compact (C encoder, much faster) for pipes and files
        pretty = streams.out.isatty() and not args.output
        text = dumps(inspect_document(analysis, suggestions), indent=2 if pretty else None)
    else:
        from ..render.text import render_inspect

        color = use_color(streams.out) and not args.output
        width = text_width(streams.out, to_file=bool(args.output))
        text = render_inspect(
            analysis, top=args.top, width=width, color=color, suggestions=suggestions
        )
        if plan.beside:
            text = text.rstrip("\n") + "\n" + link(plan.beside, "text")
    emit(text, args.output, streams.out)
    return 0


def analyse(args: argparse.Namespace, streams: Streams) -> tuple[Analysis, SuggestionReport]:
    """Load the image (and ``--base``), record it, analyse it and make the suggestions."""
    from ..analysis import analyze

    dockerfile = _read_dockerfile(getattr(args, "dockerfile", None))
    with sources_for(args, streams) as sources:
        image = sources.load(args.ref)
        base = sources.load(args.base, progress=None) if args.base else None
    count = None
    if dockerfile is not None and base is None:
        from ..dockerfile import base_layer_count

        count = base_layer_count(dockerfile, image)
    analysis = analyze(image, base_image=base, dockerfile_base_count=count)
    # The image and analysis live until the output is written: out of the collector's
    # generations, the full collections that rendering triggers need not walk every entry.
    gc.freeze()
    base_count = analysis.base.count if analysis.base.method.value != "default" else None
    record(args, streams, image, ref=args.ref, base_layer_count=base_count)
    from ..analysis.suggest import suggest

    return analysis, suggest(analysis, dockerfile=dockerfile)


def _run_tui(args: argparse.Namespace, streams: Streams) -> int:
    """The Textual app; the image is loaded and analysed in its worker thread, suggestions in
    another one, the build history when the History screen asks for it."""
    from ..analysis import analyze
    from ..model import Progress
    from ..tui import run_inspect

    base: list[Image | None] = [None]
    dockerfile = _read_dockerfile(getattr(args, "dockerfile", None))

    def load(progress: Progress) -> Image:
        session = open_sources(args)  # opened in the worker thread that uses it
        try:
            image = session.load(args.ref, progress=progress)
            if args.base:
                progress.stage(f"Reading the base image {args.base}")
                base[0] = session.load(args.base, progress=None)
        finally:
            session.close()
        return image

    def analyse(image: Image) -> Analysis:
        count = None
        if dockerfile is not None and base[0] is None:
            from ..dockerfile import base_layer_count

            count = base_layer_count(dockerfile, image)
        analysis = analyze(image, base_image=base[0], dockerfile_base_count=count)
        quiet = Streams(streams.out, io.StringIO())  # a warning must not scribble on the screen
        base_count = analysis.base.count if analysis.base.method.value != "default" else None
        record(args, quiet, image, ref=args.ref, base_layer_count=base_count)
        return analysis

    def cache_states(image: Image) -> list[LayerState] | None:
        return layer_cache_states(args, image)

    def history(image: Image) -> CacheHistory | None:
        return cache_history_of(args, image)

    ignore_text, paths, writer = None, None, None
    if dockerfile is not None:
        from .suggest import context_inputs, patch_writer

        quiet = Streams(streams.out, io.StringIO())
        ignore_text, paths = context_inputs(args.dockerfile, None, None, quiet)
        writer = patch_writer(args.dockerfile)

    def suggester(analysis: Analysis) -> SuggestionReport:
        from ..analysis.suggest import suggest

        return suggest(analysis, dockerfile=dockerfile, dockerignore=ignore_text, paths=paths)

    return run_inspect(
        load,
        args.ref,
        analyzer=analyse,
        cache_states=cache_states,
        history_loader=history,
        suggester=suggester,
        patch_writer=writer,
    )


def _read_dockerfile(path: str | None) -> Dockerfile | None:
    """The parsed ``--dockerfile`` (read before the TUI starts, so errors are usage errors)."""
    if not path:
        return None
    from pathlib import Path

    from ..dockerfile import parse_dockerfile
    from ..errors import UsageError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read Dockerfile {path}: {exc.strerror}") from exc
    return parse_dockerfile(text, path=path)


def cache_history_of(args: argparse.Namespace, image: Image) -> CacheHistory | None:
    """The recorded builds of the image's repository with their cache verdicts; None when
    nothing is recorded or the store cannot be read."""
    from ..analysis.cache import cache_history

    builds = recorded_builds(args, image)
    if not builds:
        return None
    known = {layer.diff_id: layer.entries for layer in image.layers}
    cache = None if getattr(args, "no_cache", False) else _layer_cache()
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


def layer_cache_states(args: argparse.Namespace, image: Image) -> list[LayerState] | None:
    """Hit or miss per layer against the previous recorded build of the same repository
    (design.md's cache definition); None when there is no previous build to compare with."""
    from ..analysis.cache import LayerState, cache_history

    for build in cache_history(recorded_builds(args, image)).builds:
        if build.build.image_id == image.image_id:
            if build.hits is None:
                return None
            return [LayerState.HIT if hit else LayerState.MISS for hit in build.hits]
    return None
