"""The background work of a command run: owned by the run's ``Background``, never a global.

A session whose work is still running at ``close`` is kept by the Background; on the way out
the Background asks stoppable work to stop, waits for all of it, closes the session's layer
cache, and prints each problem as one warning line.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from layerscope.commands.common import Background, SourceSession
from layerscope.errors import StoreError
from layerscope.store import LayerCache


class _Check:
    """Work that runs until it is asked to stop (as a long layer check does)."""

    def __init__(self, fail: bool = False) -> None:
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.finished = False
        self.fail = fail

    def __call__(self) -> None:
        self.started.set()
        self.stopped.wait()
        self.finished = True
        if self.fail:
            raise StoreError("the check could not write its result")

    def stop(self) -> None:
        self.stopped.set()


class _Cache(LayerCache):
    """A real layer cache that remembers being closed."""

    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


def _cache_is_open(cache: _Cache) -> bool:
    return not cache.closed


def test_unfinished_work_outlives_the_session_until_the_run_ends(tmp_path: Path) -> None:
    err = io.StringIO()
    check = _Check()
    cache = _Cache(tmp_path / "cache.sqlite3")
    with Background(err) as background:
        session = SourceSession(cache, background=background)
        session.defer(check)
        assert check.started.wait(timeout=60)
        session.close()
        # the command goes on: the check is still running and the cache still open for it
        assert not check.finished
        assert _cache_is_open(cache)
    assert check.finished and check.stopped.is_set()
    assert not _cache_is_open(cache)
    assert err.getvalue() == ""


def test_a_failed_background_check_is_one_warning_line_at_the_end(tmp_path: Path) -> None:
    err = io.StringIO()
    check = _Check(fail=True)
    with Background(err) as background:
        session = SourceSession(_Cache(tmp_path / "c.sqlite3"), background=background)
        session.defer(check)
        assert check.started.wait(timeout=60)
        session.close()
        assert err.getvalue() == ""
    assert err.getvalue() == "layerscope: warning: the check could not write its result\n"


def test_without_a_background_close_waits_for_the_work(tmp_path: Path) -> None:
    check = _Check()
    cache = _Cache(tmp_path / "cache.sqlite3")
    session = SourceSession(cache)
    session.defer(check)
    assert check.started.wait(timeout=60)
    session.close()  # asks the check to stop and waits for it
    assert check.finished
    assert not _cache_is_open(cache)


def test_an_interrupted_run_still_ends_its_work(tmp_path: Path) -> None:
    err = io.StringIO()
    check = _Check()
    with pytest.raises(KeyboardInterrupt), Background(err) as background:
        session = SourceSession(_Cache(tmp_path / "c.sqlite3"), background=background)
        session.defer(check)
        assert check.started.wait(timeout=60)
        session.close()
        raise KeyboardInterrupt
    assert check.finished
