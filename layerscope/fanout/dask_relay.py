"""``--dask`` through a relay: the Dask client runs in a process of its own.

Importing ``distributed`` costs about 0.45 s of CPU, more than reading a registry's worth of
small layers; in the scan's process it took the interpreter from the listing, so the workers
got their first task only when the listing was nearly done. The relay (``on_dask.relay_main``,
``python -m layerscope.fanout.on_dask``) imports it and connects on the other core while the
scan lists, then submits each task as it comes (``on_dask.DaskBackend``: batches, gathers, a
dead worker's task run elsewhere) and hands back each answer as the worker pickled it. Tasks go
to it pickled over its stdin; answers come back over its stdout. Ctrl+C (or any failure here)
tells it to cancel what is out, and it is waited for; a relay that loses its stdin cancels too.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from ..errors import UsageError
from . import Backend, TaskFeed

T = TypeVar("T")
R = TypeVar("R")

RELAY_EXIT_WAIT_S = 60.0
"""How long the relay is given to cancel its tasks and end before it is killed."""


HERE = str(Path(__file__).resolve().parents[2])
"""Where this layerscope is imported from: the relay runs there (``-m`` puts the current
directory first on its path) and its PYTHONPATH starts with it."""


def _relay_env() -> dict[str, str]:
    """The environment of the relay: this process's, with this layerscope first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, env.get("PYTHONPATH")) if p)
    return env


def _start(function: str, address: str) -> tuple[subprocess.Popen[bytes], int]:
    """The relay process for ``function`` (``module:name``) on ``address``, and the read end
    of its answers' pipe."""
    answers, theirs = os.pipe()  # not its stdout: nothing a library prints gets mixed in
    try:
        relay = subprocess.Popen(
            [sys.executable, "-m", "layerscope.fanout.on_dask", address, function, str(theirs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=(theirs,),
            env=_relay_env(),
            cwd=HERE,
        )
    except BaseException:
        os.close(answers)
        raise
    finally:
        os.close(theirs)
    return relay, answers


_EARLY: dict[tuple[str, str], tuple[subprocess.Popen[bytes], int]] = {}
"""Relays started by ``start_early``, waiting for their backend."""
_EARLY_LOCK = threading.Lock()


def start_early(function: str, address: str) -> None:
    """Start the relay for ``function`` (``module:name``) on ``address`` now, before the
    caller has anything to submit (the scan: before it builds its listing): its import of
    ``distributed`` and its connection then overlap the caller's own start. The first
    ``RelayBackend`` of that function and address adopts it; ``discard_early`` ends one that
    none did."""
    with _EARLY_LOCK:
        if (function, address) not in _EARLY:
            _EARLY[(function, address)] = _start(function, address)


def discard_early() -> None:
    """End the relays ``start_early`` started that no backend adopted (the command failed
    before it read anything; they have submitted nothing)."""
    with _EARLY_LOCK:
        left = list(_EARLY.values())
        _EARLY.clear()
    for relay, answers in left:
        os.close(answers)
        if relay.stdin is not None:
            relay.stdin.close()
        relay.terminate()  # it has nothing out: no need to wait for its import to end
        try:
            relay.wait(RELAY_EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            relay.kill()
            relay.wait()


class RelayBackend(Backend[T, R]):
    """The tasks on the Dask scheduler at ``address``, through the relay process."""

    def __init__(
        self,
        fn: Callable[[T], R],
        address: str,
        feed: TaskFeed[T],
        on_result: Callable[[int, R], None],
        lost: Callable[[int, str], R],
        name: Callable[[T], str] | None,
        weight: Callable[[T], int] | None = None,
    ) -> None:
        super().__init__(on_result)
        self._lost = lost
        self._name = name
        self._weight = weight or (lambda _task: 1 << 62)
        self._ended = False
        function = f"{fn.__module__}:{fn.__qualname__}"
        with _EARLY_LOCK:
            early = _EARLY.pop((function, address), None)
        self._relay, answers = early or _start(function, address)
        assert self._relay.stdin is not None
        self._to: IO[bytes] = self._relay.stdin
        threading.Thread(
            target=self._answers, args=(feed, os.fdopen(answers, "rb")), daemon=True
        ).start()

    def _answers(self, feed: TaskFeed[T], stream: IO[bytes]) -> None:
        """Thread: the relay's messages onto the feed (its exit too)."""
        while True:
            try:
                message = pickle.load(stream)
            except (EOFError, OSError, pickle.UnpicklingError):
                feed.events.put(("relay", ("exit", self._relay.wait())))
                return
            feed.events.put(("relay", message))

    def _say(self, message: tuple[Any, ...]) -> None:
        try:
            pickle.dump(message, self._to, protocol=pickle.HIGHEST_PROTOCOL)
            self._to.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the relay is gone: its exit says why

    def submit(self, i: int, task: T) -> None:
        data = pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
        key = self._name(task) if self._name is not None else str(i)  # unique per task
        self._say(("task", (data, key, self._weight(task))))

    def ended(self) -> None:
        self._ended = True
        self._say(("end",))

    def take(self, event: tuple[Any, ...]) -> None:
        message = event[1]
        kind = message[0]
        if kind == "result":
            self.answer(message[1], pickle.loads(message[2]))
        elif kind == "lost":
            self.answer(message[1], self._lost(message[1], message[2]))
        elif kind == "error":
            from .on_dask import SchedulerUnavailableError

            if message[1] == "usage":
                raise UsageError(message[2])
            raise SchedulerUnavailableError(
                message[2] if message[1] == "unavailable" else f"Dask: {message[2]}"
            )
        elif kind == "exit" and (not self._ended or len(self.done) < len(self.tasks)):
            from .on_dask import SchedulerUnavailableError

            raise SchedulerUnavailableError(
                f"the Dask client process ended early (exit status {message[1]})"
            )

    def close(self, *, failed: bool) -> None:
        if failed:
            self._say(("cancel",))
        try:
            self._to.close()
        except OSError:
            pass
        try:
            self._relay.wait(RELAY_EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            self._relay.kill()
            self._relay.wait()
