"""The Textual interface of ``layerscope inspect`` and ``layerscope diff --tui``.

It imports no sources or store: the cli hands it callables. Importing this package is cheap;
Textual is loaded when an app runs (``viewmodel`` and ``diffmodel`` never load it).
"""

from __future__ import annotations

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
    """Run the TUI until the user quits; the exit code (that of the error when loading failed)."""
    from layerscope.tui.app import InspectApp

    app = InspectApp(
        loader,
        ref_label,
        analyzer=analyzer,
        cache_states=cache_states,
        history_loader=history_loader,
        suggester=suggester,
        patch_writer=patch_writer,
    )
    code = app.run()
    return app.exit_code if code is None else code


def run_diff(loader: DiffLoader, label: str) -> int:
    """Run the diff TUI until the user quits; the exit code (that of the error when loading
    failed)."""
    from layerscope.tui.diff_app import DiffApp

    app = DiffApp(loader, label)
    code = app.run()
    return app.exit_code if code is None else code
