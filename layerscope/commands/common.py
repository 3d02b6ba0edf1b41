"""What every subcommand shares: streams, output files, progress display, source options."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import UsageError

REF_HELP = (
    "image reference: PATH (docker save archive, OCI tar or layout; gzip-compressed too), "
    "docker-archive:PATH[:NAME[:TAG]], oci:DIR[:REF], oci-archive:PATH[:REF]"
)


@dataclass(frozen=True, slots=True)
class Streams:
    """Where a command writes."""

    out: IO[str]
    err: IO[str]


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Options that say how to read images."""
    parser.add_argument(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="pick this platform from a multi-platform index",
    )
    parser.add_argument(
        "--verify", action="store_true", help="check every blob against its sha256 digest (slower)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress display")


def add_output_options(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    """--format (and its --json / --markdown / --text shorthands) and --output."""
    group = parser.add_mutually_exclusive_group()
    if "text" in formats:
        group.add_argument(
            "--text",
            dest="format",
            action="store_const",
            const="text",
            help="print text (short for --format text)",
        )
    if "json" in formats:
        group.add_argument(
            "--json",
            dest="format",
            action="store_const",
            const="json",
            help="print JSON (short for --format json)",
        )
    if "markdown" in formats:
        group.add_argument(
            "--markdown",
            dest="format",
            action="store_const",
            const="markdown",
            help="print Markdown (short for --format markdown)",
        )
    group.add_argument("--format", dest="format", choices=formats, help="output format")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE")


def emit(text: str, output: str | None, out: IO[str]) -> None:
    """Write a command's output to --output FILE or to stdout."""
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from exc
    else:
        out.write(text)
        if text and not text.endswith("\n"):
            out.write("\n")


def text_width(out: IO[str]) -> int | None:
    """Terminal width for text output: None on a TTY (rich measures it), else $COLUMNS or 100."""
    if out.isatty():
        return None
    cols = os.environ.get("COLUMNS")
    return int(cols) if cols and cols.isdigit() else 100


def use_color(out: IO[str]) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return out.isatty() and "NO_COLOR" not in os.environ


class RichProgress:
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


def progress_for(args: argparse.Namespace, err: IO[str]) -> RichProgress | None:
    """A progress bar on a terminal's stderr, unless --quiet."""
    if getattr(args, "quiet", False) or not err.isatty():
        return None
    return RichProgress(err)
