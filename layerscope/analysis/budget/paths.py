"""``forbidden_paths``: the paths a layer writes that match a glob (``.gitignore``-like)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from layerscope.analysis.budget.results import ForbiddenHit
from layerscope.model import EntryKind

if TYPE_CHECKING:
    from layerscope.analysis import Analysis

__all__ = ["forbidden_hits", "glob_regex"]


def forbidden_hits(analysis: Analysis, patterns: Sequence[str]) -> tuple[ForbiddenHit, ...]:
    """Paths any layer writes that match one of ``patterns`` (a path written by several layers
    is listed for each; whiteouts and opaque markers are not paths written)."""
    regexes = [(pattern, glob_regex(pattern)) for pattern in patterns]
    final = analysis.filesystem.final
    hits: list[ForbiddenHit] = []
    for layer in analysis.image.layers:
        for entry in layer.entries:
            if entry.kind in (EntryKind.WHITEOUT, EntryKind.OPAQUE) or entry.path == "/":
                continue
            for pattern, regex in regexes:
                if regex.fullmatch(entry.path.lstrip("/")):
                    placed = final.get(entry.path)
                    visible = placed is not None and placed.layer_index == layer.index
                    hits.append(ForbiddenHit(entry.path, pattern, layer.index, visible))
                    break
    return tuple(hits)


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regex for a path glob, matched against paths without their leading ``/``.

    ``*`` and ``?`` stay within one path segment, ``[...]`` is a character class, ``**`` matches
    any number of segments (``**/`` none too), and a pattern without ``/`` matches at any depth
    (``*.pem`` = ``**/*.pem``), as in ``.gitignore``.
    """
    body = pattern.strip().lstrip("/") if pattern.strip().startswith("/") else pattern.strip()
    if "/" not in body.rstrip("/"):
        body = "**/" + body
    body = body.rstrip("/") or "**"
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:[^/]*/)*")  # "a/**/b" matches "a/b" too
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[":
            end = body.find("]", i + 2)
            if end == -1:
                out.append(re.escape("["))
                i += 1
            else:
                inner = body[i + 1 : end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)
