"""Command line: argument parsing, composition, and the only place errors become exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from . import __version__
from .errors import LayerscopeError, UsageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3

REF_HELP = (
    "image reference: PATH (docker save archive, OCI tar or layout; gzip-compressed too), "
    "docker-archive:PATH[:NAME[:TAG]], oci:DIR[:REF], oci-archive:PATH[:REF]"
)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns the exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(
        prog="layerscope",
        description="Why container images are big and why builds miss the cache, measured.",
    )
    parser.add_argument("--version", action="version", version=f"layerscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    inspect = sub.add_parser(
        "inspect",
        help="layers, files and waste of one image",
        description=(
            "Analyse one image: per-layer sizes (uncompressed and stored), added / modified / "
            "removed files, dive-compatible efficiency, and reclaimable bytes with the reason "
            "and the instructions behind each. Prints a text summary (--text), a JSON document "
            "(--json, schema in docs/json-schema.md)."
        ),
    )
    inspect.add_argument("ref", metavar="REF", help=REF_HELP)
    fmt = inspect.add_mutually_exclusive_group()
    fmt.add_argument(
        "--text",
        dest="format",
        action="store_const",
        const="text",
        help="print the text summary (default when stdout is not a terminal)",
    )
    fmt.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="print the JSON document (short for --format json)",
    )
    fmt.add_argument("--format", dest="format", choices=("text", "json"), help="output format")
    inspect.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")
    inspect.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="pick this platform from a multi-platform index",
    )
    inspect.add_argument(
        "--base", metavar="REF", help="the base image: its layers count as base, the rest as yours"
    )
    inspect.add_argument(
        "--verify", action="store_true", help="check every blob against its sha256 digest (slower)"
    )
    inspect.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="reclaimable items to list in the text summary (default 10)",
    )
    inspect.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run layerscope with ``argv``; return the exit code (design.md convention 7)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(list(argv) if argv is not None else None)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help(out)
            return EXIT_BAD_INPUT
        if args.command == "inspect":
            return _inspect(args, out, err)
        raise UsageError(f"unknown command {args.command}")
    except LayerscopeError as exc:
        print(f"layerscope: error: {exc.message}", file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("layerscope: interrupted", file=err)
        return 130
    except MemoryError:
        print("layerscope: error: out of memory", file=err)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK


def main_entry() -> None:
    """Console-script entry point."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(code)


def _inspect(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .analysis import analyze
    from .sources import load_image

    progress = None if args.quiet else _progress(err)
    try:
        image = load_image(args.ref, platform=args.platform, progress=progress, verify=args.verify)
        base = load_image(args.base, verify=args.verify) if args.base else None
    finally:
        if progress is not None:
            progress.close()
    analysis = analyze(image, base_image=base)
    fmt = args.format or "text"
    if fmt == "json":
        from .render.json import dumps, inspect_document

        text = dumps(inspect_document(analysis))
    else:
        from .render.text import render_inspect

        width = None if args.output else _width(out)
        text = render_inspect(
            analysis, top=args.top, width=width, color=_color(out) and not args.output
        )
    _emit(text, args.output, out)
    return EXIT_OK


def _emit(text: str, output: str | None, out: IO[str]) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from exc
    else:
        out.write(text)
        if not text.endswith("\n"):
            out.write("\n")


def _width(out: IO[str]) -> int | None:
    if out.isatty():
        return None
    cols = os.environ.get("COLUMNS")
    return int(cols) if cols and cols.isdigit() else 100


def _color(out: IO[str]) -> bool:
    return out.isatty() and "NO_COLOR" not in os.environ


def _progress(err: IO[str]) -> _RichProgress | None:
    if not err.isatty():
        return None
    return _RichProgress(err)


class _RichProgress:
    """Adapts the core's Progress protocol to a rich progress bar on stderr."""

    def __init__(self, err: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(file=err),
            transient=True,
        )
        self._progress.start()
        self._task: object | None = None

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)  # type: ignore[arg-type]
        self._task = self._progress.add_task(text, total=total_bytes)

    def advance(self, done_bytes: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, done_bytes)  # type: ignore[arg-type]

    def close(self) -> None:
        self._progress.stop()
