"""The TUI as a person sees it: a real terminal (tmux) of a given size, real key presses.

Each session runs on its own tmux server socket (unique per test), so tests never share a
server; a missing tmux fails the test (scripts/test installs it).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

WAIT_SECONDS = 30.0
"""How long to wait for the screen to show something before failing (never a timing assert)."""


class Tmux:
    def __init__(self, socket: str, exit_file: Path) -> None:
        self.socket, self.exit_file = socket, exit_file

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30, check=False)  # fmt: skip
        return done.stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "main", *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "main")

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.1)
        pytest.fail(f"the screen never showed {what}:\n{self.screen()}")

    def wait_text(self, text: str) -> str:
        return self.wait_for(lambda screen: text in screen, repr(text))

    def exit_code(self) -> int:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text().strip())
            time.sleep(0.1)
        pytest.fail(f"the program did not exit:\n{self.screen()}")


@contextmanager
def tmux_session(
    args: list[str], tmp_path: Path, *, width: int = 80, height: int = 24
) -> Iterator[Tmux]:
    """``layerscope ARGS`` in a ``width`` x ``height`` tmux window."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (apt-get install tmux)")
    socket = f"layerscope-{uuid.uuid4().hex[:12]}"
    exit_file = tmp_path / f"exit-{socket}"
    env = {"LAYERSCOPE_CACHE_DIR": str(tmp_path / "cache"),
           "LAYERSCOPE_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm-256color"}  # fmt: skip
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (
        # COLUMNS/LINES (pytest sets them) would override the window's size in Textual
        f"cd {shlex.quote(str(tmp_path))} && env -u COLUMNS -u LINES {exports} "
        f"{shlex.quote(sys.executable)} -m layerscope {' '.join(map(shlex.quote, args))}; "
        f"echo $? > {shlex.quote(str(exit_file))}; sleep 600"
    )
    subprocess.run(["tmux", "-L", socket, "-f", os.devnull, "new-session", "-d", "-s", "main",
                    "-x", str(width), "-y", str(height), command], check=True,
                   env={**os.environ, "TMUX": ""}, timeout=30)  # fmt: skip
    session = Tmux(socket, exit_file)
    try:
        yield session
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30,
                       check=False)  # fmt: skip
