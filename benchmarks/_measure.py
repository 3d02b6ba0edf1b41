"""Run one command as a child process and measure its wall time and peak RSS."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Run:
    """One measured run of a child process."""

    wall_s: float
    """Wall-clock seconds from spawn to exit (or to the kill, when it timed out)."""
    max_rss_mib: float
    """Peak resident set size of the child (``ru_maxrss`` from ``wait4``), in MiB."""
    returncode: int
    timed_out: bool
    peak_anon_mib: float | None = None
    """Largest ``RssAnon`` seen by polling /proc every 20 ms (heap, not mapped files)."""
    peak_file_mib: float | None = None
    """Largest ``RssFile`` seen by polling (file pages mapped in, e.g. an mmap of the archive)."""
    cpu_s: float | None = None
    """User + system CPU seconds of the child (``wait4``): less noisy than wall time on a
    machine shared with other work, and above wall time when it used more than one core."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Several runs of one command, summarised."""

    runs: tuple[Run, ...]

    @property
    def wall_s(self) -> float:
        """Median wall time."""
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def max_rss_mib(self) -> float:
        """Largest peak RSS over the runs."""
        return max(r.max_rss_mib for r in self.runs)

    @property
    def timed_out(self) -> bool:
        """Whether any run hit the timeout."""
        return any(r.timed_out for r in self.runs)


def measure(
    cmd: Sequence[str],
    *,
    stdout: Path | None = None,
    stderr: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float | None = None,
) -> Run:
    """Spawn ``cmd`` in its own session, wait for it with ``wait4``, and return its cost.

    Output goes to the given files (or /dev/null). On timeout the whole process group is
    killed and the run is marked ``timed_out``; the wall time is then the time of the kill.
    """
    out = open(stdout, "wb") if stdout else open(os.devnull, "wb")  # noqa: SIM115
    err = open(stderr, "wb") if stderr else open(os.devnull, "wb")  # noqa: SIM115
    killed = threading.Event()
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )

        def _kill() -> None:
            killed.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        poller = _Poller(proc.pid)
        poller.start()
        timer = threading.Timer(timeout_s, _kill) if timeout_s else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
            poller.stop()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    finally:
        out.close()
        err.close()
    return Run(
        wall,
        usage.ru_maxrss / 1024.0,
        proc.returncode,
        killed.is_set(),
        poller.peak_kib("RssAnon") / 1024.0,
        poller.peak_kib("RssFile") / 1024.0,
        usage.ru_utime + usage.ru_stime,
    )


class _Poller(threading.Thread):
    """Samples RssAnon and RssFile of one process from /proc/PID/status until stopped."""

    def __init__(self, pid: int, interval_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self._path = f"/proc/{pid}/status"
        self._interval = interval_s
        self._done = threading.Event()
        self._peak: dict[str, int] = {"RssAnon": 0, "RssFile": 0}

    def run(self) -> None:
        while not self._done.is_set():
            try:
                with open(self._path, "rb") as f:
                    text = f.read()
            except OSError:
                return
            for line in text.splitlines():
                key, _, rest = line.partition(b":")
                k = key.decode()
                if k in self._peak:
                    self._peak[k] = max(self._peak[k], int(rest.split()[0]))
            self._done.wait(self._interval)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def peak_kib(self, key: str) -> int:
        return self._peak[key]
