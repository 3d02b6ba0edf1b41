"""Keys as a terminal sends them, through tmux: what Pilot cannot show (issue 12)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui.tmuxkit import tmux_session

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "demo-app.tar"


def _files_focused(screen: str) -> bool:
    """The footer lists the Files pane's keys (ctrl+space "All", "Sort") only when it has focus."""
    footer = screen.rstrip().splitlines()[-1]
    return "All" in footer and "Sort" in footer


DEEP = "base_events.py"
"""A file three directories down in layer 0: on screen only while the tree is expanded."""


def _collapsed(screen: str) -> bool:
    return "▸ usr/" in screen and DEEP not in screen


def test_ctrl_space_collapses_everything_as_the_footer_says(tmp_path: Path) -> None:
    """Terminals send ctrl+space as NUL; the binding must answer to what arrives."""
    with tmux_session(["inspect", str(DEMO)], tmp_path, width=120, height=40) as tui:
        tui.wait_text(DEEP)
        tui.wait_text("Suggestions (")  # the last pane to arrive: the screen is settled
        tui.keys("Tab")  # Layers -> Files
        tui.wait_for(_files_focused, "the Files pane focused")
        tui.keys("C-Space")
        tui.wait_for(_collapsed, "a collapsed tree")
        tui.keys("C-Space")
        tui.wait_text(DEEP)
        tui.keys("q")
        assert tui.exit_code() == 0


def test_tab_toggles_layers_and_files_and_never_enters_the_filter(tmp_path: Path) -> None:
    with tmux_session(["inspect", str(DEMO)], tmp_path, width=120, height=40) as tui:
        tui.wait_text(DEEP)
        tui.wait_text("Suggestions (")
        for n, key in enumerate(("Tab", "Tab", "BTab", "BTab", "Tab")):
            tui.keys(key)  # Files, Layers, Files, Layers, Files: one key, then its effect
            if n % 2 == 0:
                tui.wait_for(_files_focused, f"the Files pane focused after key {n + 1}")
            else:
                tui.wait_for(lambda s: not _files_focused(s), f"Layers after key {n + 1}")
        tui.keys("c")  # only the Files pane answers 'c' (collapse all)
        tui.wait_for(_collapsed, "the tree collapsed by a key in the Files pane")
        # typing after shift+tab never lands in the filter box
        tui.keys("BTab", "BTab", "BTab")
        tui.keys("x", "y", "z")
        assert "xyz" not in tui.screen()
        tui.keys("q")
        assert tui.exit_code() == 0


@pytest.fixture
def silent_registry() -> Iterator[str]:
    """A TCP server on a free loopback port that accepts and never answers: a registry that
    keeps the TUI on its loading screen for as long as the test needs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def test_ctrl_c_while_loading_exits_130(tmp_path: Path, silent_registry: str) -> None:
    ref = f"registry://{silent_registry}/team/app:1"
    with tmux_session(["inspect", ref], tmp_path) as tui:
        tui.wait_text("Opening")
        tui.keys("C-c")
        assert tui.exit_code() == 130
