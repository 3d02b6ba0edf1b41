"""Command line: argument parsing, composition, and the only place errors become exit codes."""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO

from . import __version__
from .commands.common import Background, Outliving, Streams
from .commands.htmlout import html_took_hint
from .errors import LayerscopeError, UsageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3

COMMANDS = ("inspect", "diff", "suggest", "history", "check", "cache", "report", "scan")
"""Subcommands, each a module of ``layerscope.commands`` with ``add_parser`` and
``run(args, streams, background)``."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns the exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # main() prefixes "layerscope: error:"; name the subcommand and where help is.
        command = self.prog.removeprefix("layerscope").strip()
        where = f"{command}: " if command else ""
        if "arguments are required" in message:  # (commands.htmlout._Html sets html_took)
            message += html_took_hint(getattr(self, "html_took", None))
        raise UsageError(
            f"{where}{message} (see layerscope {command + ' ' if command else ''}--help)"
        )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser for every subcommand, or with ``only`` for that one alone (start-up:
    a run imports its own command's module, not every command's)."""
    parser = _Parser(
        prog="layerscope",
        description="Why container images are big and why builds miss the cache, measured.",
    )
    parser.add_argument("--version", action="version", version=f"layerscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f".commands.{name}", __package__).add_parser(sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run layerscope with ``argv``; return the exit code (design.md convention 7)."""
    streams = Streams(stdout or sys.stdout, stderr or sys.stderr)
    undo_early: Callable[[], None] | None = None
    try:
        words = list(argv) if argv is not None else sys.argv[1:]
        named = words[0] if words and words[0] in COMMANDS else None
        if named is not None:  # a command may start work before its parser is built
            early = getattr(
                importlib.import_module(f".commands.{named}", __package__), "start_early", None
            )
            undo_early = early(words) if early is not None else None
        parser = build_parser(named)
        try:
            args, extra = parser.parse_known_args(words)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if extra:  # name the subcommand whose --help lists what it takes
            where, see = (f"{args.command}: ", f"{args.command} ") if args.command else ("", "")
            raise UsageError(
                f"{where}unrecognized arguments: {' '.join(extra)} (see layerscope {see}--help)"
            )
        if args.command is None:
            parser.print_help(streams.out)
            return EXIT_BAD_INPUT
        module = importlib.import_module(f".commands.{args.command}", __package__)
        with Background(streams.err) as background:  # the command's background work ends here
            return int(module.run(args, streams, background))
    except LayerscopeError as exc:
        print(f"layerscope: error: {exc.message}", file=streams.err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("layerscope: interrupted", file=streams.err)
        return 130
    except MemoryError:
        print("layerscope: error: out of memory", file=streams.err)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    finally:
        if undo_early is not None:  # what it started and its run did not take over is ended
            undo_early()


def main_entry() -> None:
    """Console-script entry point."""
    Outliving.ends_with_command = True
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:  # what is left of the output could not be written (a full disk)
        print(f"layerscope: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = code or EXIT_BAD_INPUT
    if code == 130:
        # Interrupted: do not wait for a worker thread still reading the image at exit.
        sys.stderr.flush()
        os._exit(code)
    if Outliving.kept and threading.active_count() == 1:
        # what the command kept is freed with the process, at once (commands.common.Outliving)
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
