"""Big results that live as long as the command (an image's analysis, the TUI's first view):
made with the cyclic collector paused, then frozen out of its generations, so that no later
collection walks their hundreds of thousands of objects (up to 0.3 s each on a 100k-file
image)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


def made_frozen(make: Callable[[], _T]) -> _T:
    """``make()`` with no collection meanwhile, its result frozen (``gc.freeze``) before the
    collector runs again (it is switched back on only if it was on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        made = make()
        gc.freeze()
    finally:
        if enabled:
            gc.enable()
    return made
