"""The Textual interface of ``layerscope inspect`` and ``layerscope diff --tui``.

It imports no sources or store: the cli hands it callables. Importing this package is cheap;
Textual is loaded when an app runs (``viewmodel`` and ``diffmodel`` never load it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from layerscope.model import Image, Progress

if TYPE_CHECKING:
    from layerscope.analysis import Analysis
    from layerscope.analysis.cache import CacheHistory, LayerState
    from layerscope.analysis.diff import ImageDiff
    from layerscope.analysis.suggest import SuggestionReport

__all__ = [
    "Loader",
    "Analyzer",
    "CacheStates",
    "HistoryLoader",
    "Suggester",
    "PatchWriter",
    "DiffLoader",
    "run_inspect",
    "EarlyLoad",
    "run_diff",
]

Loader = Callable[[Progress], Image]
"""Loads the image, reporting to the Progress it is given."""
Analyzer = Callable[[Image], "Analysis"]
"""Analyses the loaded image (default: ``layerscope.analysis.analyze``)."""
CacheStates = Callable[[Image], "Sequence[LayerState | None] | None"]
"""The cache state of each layer (hit or miss) when the build history knows it."""
HistoryLoader = Callable[[Image], "CacheHistory | None"]
"""The recorded builds of the image's repository with their cache verdicts (None: none)."""
Suggester = Callable[["Analysis"], "SuggestionReport | None"]
"""Dockerfile suggestions for the analysed image (run in a worker after the first screen)."""
PatchWriter = Callable[[str, bool], str]
"""Writes the combined patch next to the Dockerfile: (patch, overwrite) -> the path written, a
hint for applying it after a newline; raises FileExistsError when the file exists and
``overwrite`` is False."""
DiffLoader = Callable[[Progress], "ImageDiff"]
"""Loads both images and compares them, reporting to the Progress it is given."""


def run_inspect(
    loader: Loader,
    ref_label: str,
    *,
    analyzer: Analyzer | None = None,
    cache_states: CacheStates | None = None,
    history_loader: HistoryLoader | None = None,
    suggester: Suggester | None = None,
    patch_writer: PatchWriter | None = None,
) -> int:
    """Run the TUI until the user quits; the exit code (that of the error when loading failed).

    The image is loaded and analysed from the start, while Textual is imported and the
    terminal set up: the app's loader waits for that work instead of starting it."""
    early = EarlyLoad(loader, analyzer)
    from layerscope.tui.app import InspectApp

    app = InspectApp(
        early.image,
        ref_label,
        analyzer=early.analysis,
        cache_states=cache_states,
        history_loader=history_loader,
        suggester=suggester,
        patch_writer=patch_writer,
    )
    code = app.run()
    return app.exit_code if code is None else code


class EarlyLoad:
    """Loads and analyses an image in a daemon thread started at once (before the interface
    is up); its progress is kept until a display asks for it with ``image``."""

    def __init__(self, loader: Loader, analyzer: Analyzer | None) -> None:
        self._loader = loader
        self._analyzer = analyzer
        self._lock = threading.Lock()
        self._sink: Progress | None = None
        self._stage: tuple[str, int | None] | None = None
        self._done = 0
        self._loaded = threading.Event()
        self._analysed = threading.Event()
        self._image: Image | None = None
        self._analysis: Analysis | None = None
        self._error: BaseException | None = None
        # daemon: ctrl+c must not wait for a read that may block (a silent registry)
        threading.Thread(target=self._run, name="layerscope-early-load", daemon=True).start()

    def _run(self) -> None:
        try:
            self._image = self._loader(self)
            self._loaded.set()
            if self._analyzer is None:
                from layerscope.analysis import analyze

                self._analysis = analyze(self._image)
            else:
                self._analysis = self._analyzer(self._image)
        except BaseException as exc:  # re-raised in the thread that waits for the result
            self._error = exc
        finally:
            self._loaded.set()
            self._analysed.set()

    # Progress, until a display is attached; then forwarded to it
    def stage(self, text: str, total_bytes: int | None = None) -> None:
        with self._lock:
            if self._sink is None:
                self._stage, self._done = (text, total_bytes), 0
                return
        self._sink.stage(text, total_bytes)

    def advance(self, done_bytes: int) -> None:
        with self._lock:
            if self._sink is None:
                self._done += done_bytes
                return
        self._sink.advance(done_bytes)

    def image(self, progress: Progress) -> Image:
        """The loaded image (waits for it); ``progress`` gets the stage under way, then the
        rest of the loading's progress."""
        with self._lock:
            self._sink = progress
            if self._stage is not None and not self._loaded.is_set():
                progress.stage(*self._stage)
                progress.advance(self._done)
        self._loaded.wait()
        if self._error is not None:
            raise self._error
        assert self._image is not None
        return self._image

    def analysis(self, image: Image) -> Analysis:
        """The analysis of ``image`` (waits for it)."""
        self._analysed.wait()
        if self._error is not None:
            raise self._error
        assert self._analysis is not None and self._analysis.image is image
        return self._analysis


def run_diff(loader: DiffLoader, label: str) -> int:
    """Run the diff TUI until the user quits; the exit code (that of the error when loading
    failed)."""
    from layerscope.tui.diff_app import DiffApp

    app = DiffApp(loader, label)
    code = app.run()
    return app.exit_code if code is None else code
