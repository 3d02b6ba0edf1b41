"""The Textual interface of ``layerscope inspect``.

It imports no sources or store: the cli hands it callables. Importing this package is cheap;
Textual is loaded when the app runs (``viewmodel`` never loads it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from layerscope.model import Image, Progress

if TYPE_CHECKING:
    from layerscope.analysis import Analysis

__all__ = ["Loader", "Analyzer", "CacheStates", "run_inspect"]

Loader = Callable[[Progress], Image]
"""Loads the image, reporting to the Progress it is given."""
Analyzer = Callable[[Image], "Analysis"]
"""Analyses the loaded image (default: ``layerscope.analysis.analyze``)."""
CacheStates = Callable[[Image], "Sequence[str | None] | None"]
"""A short cache word per layer (``hit`` / ``miss``) when the build history knows it."""


def run_inspect(
    loader: Loader,
    ref_label: str,
    *,
    analyzer: Analyzer | None = None,
    cache_states: CacheStates | None = None,
) -> int:
    """Run the TUI until the user quits; the exit code (that of the error when loading failed)."""
    from layerscope.tui.app import InspectApp

    app = InspectApp(loader, ref_label, analyzer=analyzer, cache_states=cache_states)
    code = app.run()
    return app.exit_code if code is None else code
