"""What every subcommand shares: streams, output files, progress display, source options, and
the background work of a command run."""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import UsageError
from ..sources import LoadContext, ref_help

if TYPE_CHECKING:
    from ..dockerfile import Dockerfile
    from ..model import Digest, FileEntry, Image, Progress
    from ..store import LayerCache
    from .settings import SourceSettings

REF_HELP = ref_help()
"""The help of a REF argument, made from the registered sources' reference syntaxes."""


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
        "--verify",
        action="store_true",
        help="check every local blob against its sha256 digest (registry blobs always are)",
    )
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="allow plain HTTP / unverified TLS for this registry host (repeatable; "
        "localhost and 127.0.0.1 always may)",
    )
    parser.add_argument(
        "--creds",
        metavar="USER:PASSWORD",
        help="registry credentials (else LAYERSCOPE_REGISTRY_USERNAME/_PASSWORD, "
        "DOCKER_AUTH_CONFIG, ~/.docker/config.json and its credential helpers)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="neither read nor fill the layer index cache"
    )
    parser.add_argument(
        "--keep-blobs",
        action="store_true",
        help="keep verified registry blobs in the cache directory",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress display")


class Background:
    """The background work of one command run, and its lifetime.

    ``cli.main`` runs every command inside one (``with Background(err) as background``). A
    source session whose loads started work that is still running when the session closes
    hands itself over (``keep``); on the way out the Background lets that work end (asking what
    can stop early to stop), closes the caches it used, and prints its problems, one line each.
    """

    def __init__(self, err: IO[str]) -> None:
        self._err = err
        self._sessions: list[SourceSession] = []

    def keep(self, session: SourceSession) -> None:
        """Finish ``session`` when the command run ends (any thread may call this)."""
        self._sessions.append(session)

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def finish(self) -> None:
        """Let every kept session's work end; print what went wrong in it."""
        while self._sessions:
            session = self._sessions.pop()
            session.finish()
            for note in session.problems:
                print(f"layerscope: warning: {note}", file=self._err)


class SourceSession:
    """The caches a command opened for its loads.

    Loaders may hand it background work (checking a local layer's bytes against its diff_id
    before the layer enters the cache, on the second core while the command goes on). ``close``
    leaves unfinished work running, kept by the command run's ``Background``, which waits for
    it and closes the cache when the command is done (without one, ``close`` waits).
    """

    def __init__(
        self,
        layer_cache: LayerCache | None,
        *,
        background: Background | None = None,
        platform: str | None = None,
        verify: bool = False,
        lasting: bool = False,
        **options: Any,
    ) -> None:
        self.layer_cache = layer_cache
        self.options = LoadContext(
            index=layer_cache, defer=self.defer, verify=verify, lasting=lasting, **options
        )
        self.platform = platform
        self.verify = verify
        self.progress: Progress | None = None
        self._background = background
        self._threads: list[threading.Thread] = []
        self._works: list[Callable[[], None]] = []
        self.problems: list[str] = []

    def load(self, ref: str, *, progress: Progress | None | bool = True) -> Image:
        """Load ``ref`` with the command's --platform / --verify and the session's caches;
        ``progress`` True uses the session's progress display."""
        from ..sources import load_image

        shown = self.progress if progress is True else (progress or None)
        return load_image(ref, self.options.loading(platform=self.platform, progress=shown))

    def defer(self, work: Callable[[], None]) -> None:
        thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        thread.start()
        self._threads.append(thread)
        self._works.append(work)

    def _run(self, work: Callable[[], None]) -> None:
        from ..errors import LayerscopeError

        try:
            work()
        except LayerscopeError as exc:
            self.problems.append(exc.message)
        except Exception as exc:  # noqa: BLE001 - a background check must never kill the command
            self.problems.append(f"a background layer check failed ({type(exc).__name__}: {exc})")

    def warnings(self) -> tuple[str, ...]:
        return self.layer_cache.warnings if self.layer_cache is not None else ()

    def close(self) -> None:
        if self._background is not None and any(t.is_alive() for t in self._threads):
            self._background.keep(self)
        else:
            self.finish()

    def finish(self) -> None:
        """Ask background work that can stop early to stop (a layer check that has not finished
        caches its walk for the same file only), wait for it, then close the cache."""
        for work in self._works:
            stop = getattr(work, "stop", None)
            if stop is not None:
                stop()
        self._works.clear()
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        if self.layer_cache is not None:
            self.layer_cache.close()


def open_sources(
    settings: SourceSettings, background: Background | None, *, lasting: bool = False
) -> SourceSession:
    """A session for ``settings``, with the layer cache opened unless --no-cache; work it
    leaves running at ``close`` is kept by ``background``. ``lasting``: the command stays open
    after loading (a TUI), so a big local layer's sha256 is worth starting
    (``LoadContext.lasting``)."""
    from ..errors import StoreError
    from ..store import BlobCache, LayerCache

    cache = None
    unusable: str | None = None
    if not settings.no_cache:
        try:
            cache = LayerCache()
        except StoreError as exc:  # a cache that cannot be used must not stop the analysis
            unusable = f"layer cache not used: {exc.message}"
    blobs = BlobCache() if settings.keep_blobs else None
    session = SourceSession(
        cache,
        background=background,
        platform=settings.platform,
        verify=settings.verify,
        lasting=lasting,
        insecure_registries=settings.insecure_registries,
        credentials=settings.credentials,
        blob_cache=blobs,
    )
    if unusable is not None:
        session.problems.append(unusable)
    return session


@contextmanager
def sources_for(
    settings: SourceSettings, streams: Streams, background: Background
) -> Iterator[SourceSession]:
    """Open the caches and the progress display for a command's loads; on the way out close
    the display, print cache warnings and close the session."""
    session = open_sources(settings, background)
    session.progress = progress_for(settings.quiet, streams)
    try:
        yield session
    finally:
        if session.progress is not None:
            session.progress.close()
        say_warnings(session, streams.err)
        session.close()


def layer_files(
    known: dict[Digest, tuple[FileEntry, ...]], cache: LayerCache | None
) -> Callable[[Digest], tuple[FileEntry, ...] | None]:
    """A layer's file entries by diff_id: from images loaded now, else from the layer cache."""

    def files(diff_id: Digest) -> tuple[FileEntry, ...] | None:
        if diff_id in known:
            return known[diff_id]
        contents = cache.get(diff_id) if cache is not None else None
        return contents.entries if contents is not None else None

    return files


def say_warnings(session: SourceSession, err: IO[str]) -> None:
    """Cache problems are not fatal: tell the user, one line each."""
    for note in (*session.warnings(), *session.problems):
        print(f"layerscope: warning: {note}", file=err)
    session.problems.clear()


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
        try:
            out.write(text)
            if text and not text.endswith("\n"):
                out.write("\n")
            out.flush()
        except BrokenPipeError:
            raise  # the reader went away (`| head`): cli.main ends quietly
        except OSError as exc:  # a full disk or an I/O error under a redirected stdout
            raise UsageError(f"cannot write the output: {exc.strerror or exc}") from exc


def text_width(out: IO[str], *, to_file: bool = False) -> int:
    """Columns for text output: $COLUMNS when set, else the terminal's when ``out`` is one
    (and not redirected to a file with --output), else 0: as wide as the content needs, so a
    pipe or a file never gets a path or a figure broken across lines."""
    cols = os.environ.get("COLUMNS")
    if cols and cols.isdigit() and int(cols) > 0:
        return int(cols)
    if not to_file and out.isatty():
        try:
            return os.get_terminal_size(out.fileno()).columns or 100
        except (OSError, ValueError):
            pass
    return 0


def use_color(out: IO[str]) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return out.isatty() and "NO_COLOR" not in os.environ


class RichProgress:
    """Adapts the core's Progress protocol to a rich progress bar on stderr.

    Honest about what it does not know: a spinner and no total until the first bytes arrive
    (an engine export can take seconds to start), and no total once the bytes pass the
    expected size (an engine's image size is an estimate of its export): never over 100%.
    """

    def __init__(self, err: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(file=err),
            transient=True,
        )
        self._progress.start()
        self._task: object | None = None
        self._expected: int | None = None
        self._done = 0

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)  # type: ignore[arg-type]
        self._task = self._progress.add_task(text, total=None)
        self._expected, self._done = total_bytes, 0

    def advance(self, done_bytes: int) -> None:
        if self._task is None:
            return
        first = self._done == 0 and done_bytes > 0
        self._done += done_bytes
        task: Any = self._task
        if self._expected is not None and self._done > self._expected:
            self._expected = None  # past the estimate: bytes so far, no total
            for item in self._progress.tasks:  # update(total=None) means "unchanged" to rich
                if item.id == task:
                    item.total = None
        elif first and self._expected is not None:
            self._progress.update(task, total=self._expected)
        self._progress.advance(task, done_bytes)

    def close(self) -> None:
        self._progress.stop()


def progress_for(quiet: bool, streams: Streams) -> RichProgress | None:
    """A progress bar on stderr when stderr is a terminal (``--text > file`` too), unless
    --quiet."""
    if quiet or not streams.err.isatty():
        return None
    return RichProgress(streams.err)


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """--store: where analysed builds are recorded for ``layerscope history``."""
    parser.add_argument("--store", metavar="URL", help=STORE_HELP)


STORE_HELP = (
    "history store that records every analysed image: sqlite:///PATH, a bare PATH, or "
    "postgresql://USER@HOST[:PORT]/DB (password from the URL, PGPASSWORD or ~/.pgpass); "
    "default: $LAYERSCOPE_STORE, else store in .layerscope.toml / [tool.layerscope], else "
    "history.sqlite3 in the data directory"
)


def read_text(path: str, what: str) -> str:
    """A file the user named, as UTF-8 text. Missing, unreadable or not UTF-8: a one-line
    usage error (exit 2) that names ``what`` it is and the file."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {what} {path}: not UTF-8 text") from exc


def read_dockerfile(path: str) -> Dockerfile:
    """The parsed ``--dockerfile`` (read before any image, so its errors come first)."""
    from ..dockerfile import parse_dockerfile

    return parse_dockerfile(read_text(path, "Dockerfile"), path=path)


class Outliving:
    """What a one-shot command built, kept until its process ends (``outlive``).

    The console script (``cli.main_entry``) sets ``ends_with_command``: its process ends when
    the command does, and when a command kept what it built here, it ends with ``os._exit``
    once the atexit handlers ran and the streams are flushed, instead of freeing the analysis
    of a 100k-file image object by object and tearing the interpreter down (40-90 ms of a
    cold ``inspect --json`` of the 2 GiB benchmark image). A caller of ``cli.main`` (tests)
    keeps nothing and exits as usual."""

    ends_with_command = False
    kept: list[object] = []


def outlive(*objects: object) -> None:
    """Keep ``objects`` until the process ends, when it ends with the command (``Outliving``);
    call it once the command's output is written and nothing it made needs closing."""
    if Outliving.ends_with_command:
        Outliving.kept.extend(objects)
