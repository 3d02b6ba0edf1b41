"""Reading what a running app shows, as plain text."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec

from rich.console import Console
from textual.app import App


def screen_text(app: App[Any]) -> str:
    """The whole terminal as plain text lines."""
    width = app.size.width
    update = app.screen._compositor.render_update(full=True)
    console = Console(width=width, color_system=None, force_terminal=False, legacy_windows=False)
    with console.capture() as capture:
        console.print(update)
    return capture.get()


P = ParamSpec("P")


def run_async(func: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test with asyncio.run (no pytest asyncio plugin needed)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(func(*args, **kwargs))

    return wrapper


async def wait_until(pilot: Any, done: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Pause until ``done()`` holds; fail (never skip) after ``seconds``. No timing is asserted:
    the bound only stops a broken app from hanging the suite."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not done():
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await pilot.pause(0.02)
    await pilot.pause()
