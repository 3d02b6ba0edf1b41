"""`layerscope check` in every format: one module per format, the shared words in ``words``.

Every format is a ``CheckRenderer``; ``commands/check.py`` keeps the one table from format name
to renderer and dispatches through it.
"""

from __future__ import annotations

from typing import Protocol

from .words import CheckSubject

__all__ = ["CheckRenderer", "CheckSubject"]


class CheckRenderer(Protocol):
    """Writes a check report as text in one format (``width`` and ``color`` matter to the
    terminal format only; 0 columns: never wrap)."""

    def __call__(self, subject: CheckSubject, *, width: int, color: bool) -> str: ...
