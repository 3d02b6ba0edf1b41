"""``layerscope suggest REF [--dockerfile FILE]``: Dockerfile changes with measured savings."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from ..analysis.suggest.model import PatchPaths
from ..errors import UsageError
from ..render.suggest_formats import SUGGEST_FORMATS, SuggestSubject
from .common import (
    REF_HELP,
    Background,
    Streams,
    add_source_options,
    add_store_option,
    emit,
    read_dockerfile,
    read_text,
    sources_for,
)
from .output import add_format_options, render_output
from .recording import HistoryAccess, history_context
from .settings import SuggestSettings, add_prove_options


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
        "--context",
        metavar="DIR",
        help="the build context (default: the Dockerfile's folder): its .dockerignore is read "
        "and patched",
    )
    parser.add_argument(
        "--dockerignore",
        metavar="FILE",
        help="the .dockerignore of the build context (default: DIR/.dockerignore of --context)",
    )
    parser.add_argument(
        "--patch-only",
        action="store_true",
        help="print only the combined patch (unified diff, paths relative to the current "
        "directory: apply it with patch -p1 or git apply)",
    )
    add_format_options(parser, SUGGEST_FORMATS)
    add_prove_options(parser)
    add_source_options(parser)
    add_store_option(parser)


def patch_paths(dockerfile: Path, dockerignore: Path) -> tuple[PatchPaths, Path | None]:
    """The files as a patch applied from the current directory names them (``a/app/Dockerfile``).
    When one is outside it, the names are relative to the closest folder holding both and the
    current directory; that folder is returned (None: the current directory)."""
    here = Path.cwd().resolve()
    files = (dockerfile.resolve(), dockerignore.resolve())
    root = here
    if not all(f.is_relative_to(here) for f in files):
        root = Path(os.path.commonpath([here, *files]))
    names = [f.relative_to(root).as_posix() for f in files]
    return PatchPaths(names[0], names[1]), (root if root != here else None)


def context_inputs(
    dockerfile: str, context: str | None, dockerignore: str | None, streams: Streams
) -> tuple[str | None, PatchPaths]:
    """The build context's .dockerignore text (None: there is none) and the paths a patch
    names; a stderr note when they are not relative to the current directory."""
    folder = Path(context) if context else Path(dockerfile).parent
    if not folder.is_dir():
        raise UsageError(f"--context {context}: not a directory")
    ignore = dockerignore or str(folder / ".dockerignore")
    text = read_text(ignore, ".dockerignore") if Path(ignore).is_file() else None
    paths, root = patch_paths(Path(dockerfile), Path(ignore))
    if root is not None:
        print(
            f"layerscope: note: the build context is outside the current directory: the "
            f"patch names files relative to {root}; apply it there",
            file=streams.err,
        )
    return text, paths


def patch_writer(dockerfile: str) -> Callable[[str, bool], str]:
    """Writes a combined patch to ``DOCKERFILE.layerscope.patch`` beside the Dockerfile (the
    TUI's w key); FileExistsError when it exists and ``overwrite`` is False."""
    target = Path(dockerfile).with_name(Path(dockerfile).name + ".layerscope.patch")

    def write(patch: str, overwrite: bool) -> str:
        if target.exists() and not overwrite:
            raise FileExistsError(0, "exists", str(target))
        target.write_text(patch, encoding="utf-8")
        return f"{target}\napply it from {Path.cwd()} with: patch -p1 < {target}"

    return write


def run(args: argparse.Namespace, streams: Streams, background: Background) -> int:
    """Load, analyse, suggest, print."""
    from ..analysis import analyze
    from ..analysis.suggest import suggest
    from ..dockerfile import base_layer_count

    settings = SuggestSettings.from_args(args)
    dockerfile = None
    ignore_text = None
    paths = None
    if settings.dockerfile:
        dockerfile = read_dockerfile(settings.dockerfile)
        ignore_text, paths = context_inputs(
            settings.dockerfile, settings.context, settings.dockerignore, streams
        )
    elif settings.dockerignore:
        ignore_text = read_text(settings.dockerignore, ".dockerignore")
    recorded = HistoryAccess(settings.store)
    with sources_for(settings.sources, streams, background) as sources:
        image = sources.load(settings.ref)
        count = base_layer_count(dockerfile, image) if dockerfile is not None else None
        recorded.record(image, streams.err, ref=settings.ref, base_layer_count=count)
        builds = recorded.builds(image, settings.ref)
        history, previous = history_context(builds, image, sources.layer_cache)
    analysis = analyze(image, dockerfile_base_count=count)
    report = suggest(
        analysis,
        dockerfile=dockerfile,
        dockerignore=ignore_text,
        history=history,
        previous=previous,
        paths=paths,
    )
    proof = None
    if settings.prove is not None:
        if dockerfile is None or settings.dockerfile is None:
            raise UsageError("--prove needs --dockerfile (the Dockerfile to build)")
        from .proofs import ProofInputs, prove_report

        inputs = ProofInputs(image.image_id, dockerfile, settings.dockerfile, ignore_text, paths)
        report, proof = prove_report(settings.prove, streams.err, report, inputs)
    if args.patch_only:
        text = report.patch or "" if proof is None else proof.patch or ""
    else:
        subject = SuggestSubject(report, args.ref, dockerfile=args.dockerfile, proof=proof)
        text = render_output(args, streams, SUGGEST_FORMATS, subject)
    emit(text, args.output, streams.out)
    return 0
