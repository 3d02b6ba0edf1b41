"""Text that goes into GitHub-flavoured Markdown (PR comments, step summaries) unchanged."""

from __future__ import annotations

import re

__all__ = ["cell", "code", "plain"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def cell(text: str) -> str:
    """Table-cell text: pipes escaped, newlines flattened."""
    return " ".join(text.split()).replace("|", "\\|")


def code(text: str) -> str:
    """Inline code that survives backticks inside."""
    text = cell(text)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else ""


def plain(text: str) -> str:
    """Prose shown as written: ``__pycache__`` stays a word, not bold ``pycache``."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))
