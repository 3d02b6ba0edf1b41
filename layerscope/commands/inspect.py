"""``layerscope inspect REF``: layers, files and waste of one image."""

from __future__ import annotations

import argparse

from .common import (
    REF_HELP,
    Streams,
    add_output_options,
    add_source_options,
    emit,
    open_sources,
    progress_for,
    say_warnings,
    text_width,
    use_color,
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``inspect``."""
    parser = sub.add_parser(
        "inspect",
        help="layers, files and waste of one image",
        description=(
            "Analyse one image: per-layer sizes (uncompressed and stored), added / modified / "
            "removed files, dive-compatible efficiency, and reclaimable bytes with the reason "
            "and the instructions behind each. Prints a text summary (--text) or a JSON "
            "document (--json, schema in docs/json-schema.md)."
        ),
    )
    parser.add_argument("ref", metavar="REF", help=REF_HELP)
    add_output_options(parser, ("text", "json"))
    add_source_options(parser)
    parser.add_argument(
        "--base", metavar="REF", help="the base image: its layers count as base, the rest as yours"
    )
    parser.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="reclaimable files to list in the text summary (default 10)",
    )


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Load, analyse, print."""
    from ..analysis import analyze
    from ..sources import load_image

    if args.format is None and not args.output and streams.out.isatty():
        return _run_tui(args, streams)
    session = open_sources(args)
    progress = progress_for(args, streams)
    try:
        image = load_image(
            args.ref,
            platform=args.platform,
            progress=progress,
            verify=args.verify,
            options=session.options,
        )
        base = (
            load_image(
                args.base, platform=args.platform, verify=args.verify, options=session.options
            )
            if args.base
            else None
        )
    finally:
        if progress is not None:
            progress.close()
        say_warnings(session, streams.err)
        session.close()
    analysis = analyze(image, base_image=base)
    if (args.format or "text") == "json":
        from ..render.json import dumps, inspect_document

        # pretty for a person at a terminal, compact (C encoder, much faster) for pipes and files
        pretty = streams.out.isatty() and not args.output
        text = dumps(inspect_document(analysis), indent=2 if pretty else None)
    else:
        from ..render.text import render_inspect

        color = use_color(streams.out) and not args.output
        width = None if not args.output and streams.out.isatty() else text_width(streams.out)
        text = render_inspect(analysis, top=args.top, width=width, color=color)
    emit(text, args.output, streams.out)
    return 0


def _run_tui(args: argparse.Namespace, streams: Streams) -> int:
    """The Textual app; the image is loaded and analysed in its worker thread."""
    from ..analysis import Analysis, analyze
    from ..model import Image, Progress
    from ..sources import load_image
    from ..tui import run_inspect

    base: list[Image | None] = [None]

    def load(progress: Progress) -> Image:
        session = open_sources(args)  # opened in the worker thread that uses it
        try:
            image = load_image(
                args.ref,
                platform=args.platform,
                progress=progress,
                verify=args.verify,
                options=session.options,
            )
            if args.base:
                progress.stage(f"Reading the base image {args.base}")
                base[0] = load_image(
                    args.base, platform=args.platform, verify=args.verify, options=session.options
                )
        finally:
            session.close()
        return image

    def analyse(image: Image) -> Analysis:
        return analyze(image, base_image=base[0])

    return run_inspect(load, args.ref, analyzer=analyse)
