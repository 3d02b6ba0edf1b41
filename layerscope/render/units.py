"""Numbers with units for a person, shared by every renderer (text, Markdown, JUnit, SARIF…),
and JSON's words: no rich here, so ``--json`` does not load it."""

from __future__ import annotations

import humanize

__all__ = ["counted", "size"]


def size(value: int | None) -> str:
    """Bytes as a short decimal figure (``1.2 MB``, ``30 B``), SI units as dive and docker print
    them; a dash when unknown."""
    if value is None:
        return "-"
    if abs(value) < 1000:
        return f"{value} B"
    return str(humanize.naturalsize(value, format="%.1f"))


def counted(n: int, noun: str) -> str:
    """``1 layer``, ``2 layers``: a number with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
