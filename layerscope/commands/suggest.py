"""``layerscope suggest REF [--dockerfile FILE]``: Dockerfile changes with measured savings."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from .common import (
    REF_HELP,
    Streams,
    add_output_options,
    add_source_options,
    add_store_option,
    emit,
    history_context,
    record,
    sources_for,
    text_width,
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``suggest``."""
    parser = sub.add_parser(
        "suggest",
        help="Dockerfile changes that make the image smaller or the cache hit more",
        description=(
            "Suggest merges, same-layer cleanups, --no-install-recommends, COPY --chmod, "
            "reorders, .dockerignore entries, multi-stage builds and base pinning, each with "
            "the bytes (or rebuilds) it saves measured from the image, and a unified-diff "
            "patch when --dockerfile is given. JSON schema: docs/json-schema.md (suggest)."
        ),
    )
    parser.add_argument("ref", metavar="REF", help=REF_HELP)
    parser.add_argument(
        "--dockerfile", "-f", metavar="FILE", help="the Dockerfile it was built from"
    )
    parser.add_argument(
        "--dockerignore",
        metavar="FILE",
        help="the .dockerignore of the build context (default: beside the Dockerfile)",
    )
    parser.add_argument(
        "--patch-only", action="store_true", help="print only the combined patch (unified diff)"
    )
    add_output_options(parser, ("text", "json"))
    from .prove import add_prove_options

    add_prove_options(parser)
    add_source_options(parser)
    add_store_option(parser)


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from exc


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Load, analyse, suggest, print."""
    from ..analysis import analyze
    from ..analysis.suggest import suggest
    from ..dockerfile import base_layer_count, parse_dockerfile

    dockerfile = None
    ignore_text = None
    if args.dockerfile:
        dockerfile = parse_dockerfile(_read(args.dockerfile, "Dockerfile"), path=args.dockerfile)
        ignore = args.dockerignore or str(Path(args.dockerfile).parent / ".dockerignore")
        if Path(ignore).is_file():
            ignore_text = _read(ignore, ".dockerignore")
    elif args.dockerignore:
        ignore_text = _read(args.dockerignore, ".dockerignore")
    with sources_for(args, streams) as sources:
        image = sources.load(args.ref)
        count = base_layer_count(dockerfile, image) if dockerfile is not None else None
        record(args, streams, image, ref=args.ref, base_layer_count=count)
        history, previous = history_context(args, image, sources.layer_cache)
    analysis = analyze(image, dockerfile_base_count=count)
    report = suggest(
        analysis,
        dockerfile=dockerfile,
        dockerignore=ignore_text,
        history=history,
        previous=previous,
    )
    proof = None
    if getattr(args, "prove", None):
        if dockerfile is None:
            raise UsageError("--prove needs --dockerfile (the Dockerfile to build)")
        from .prove import prove

        proof = prove(args, streams.err, report=report, dockerfile=dockerfile,
                      dockerfile_path=args.dockerfile)  # fmt: skip
    if args.patch_only:
        text = report.patch or "" if proof is None else proof.patch or ""
    elif (args.format or "text") == "json":
        from ..render.json import dumps
        from ..render.suggest import suggest_document

        document = suggest_document(report, ref=args.ref, dockerfile=args.dockerfile)
        if proof is not None:
            from ..render.prove import proof_document

            document["proof"] = proof_document(proof)
        text = dumps(document, indent=2 if streams.out.isatty() and not args.output else None)
    else:
        from ..render.suggest import render_suggest_text

        width = text_width(streams.out, to_file=bool(args.output))
        text = render_suggest_text(report, ref=args.ref, width=width)
        if proof is not None:
            from ..render.prove import render_proof_text

            text += render_proof_text(proof)
    emit(text, args.output, streams.out)
    return 0
