"""The fan-out on local worker processes (``--workers N``).

The pool starts at once and each worker imports the task's module before the first task
arrives (the scan is still listing then). A worker process that dies breaks the pool: it is
rebuilt and every unfinished task submitted again, at most ``MAX_POOL_RESTARTS`` times; after
that the unfinished tasks (and any that still arrive) are answered with ``lost``.
"""

from __future__ import annotations

import importlib
import multiprocessing
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from . import MAX_POOL_RESTARTS, Backend, TaskFeed

T = TypeVar("T")
R = TypeVar("R")


class ProcessBackend(Backend[T, R]):
    """``workers`` processes (forkserver: no copy of this process's threads or state)."""

    def __init__(
        self,
        fn: Callable[[T], R],
        workers: int,
        feed: TaskFeed[T],
        on_result: Callable[[int, R], None],
        lost: Callable[[int, str], R],
    ) -> None:
        super().__init__(on_result)
        self._fn = fn
        self._workers = workers
        self._feed = feed
        self._lost = lost
        self._context = multiprocessing.get_context("forkserver")
        self._generation = 0
        self._restarts = 0
        self._given_up = False
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self._workers, mp_context=self._context)
        for _ in range(self._workers):  # start the workers and their imports now
            pool.submit(importlib.import_module, self._fn.__module__)
        return pool

    def submit(self, i: int, task: T) -> None:
        if self._given_up:
            self.answer(i, self._lost(i, "a worker process died while reading it"))
            return
        future = self._pool.submit(self._fn, task)
        generation = self._generation

        def posted(f: Future[R]) -> None:
            self._feed.events.put(("done", i, generation, f))

        future.add_done_callback(posted)

    def take(self, event: tuple[Any, ...]) -> None:
        _kind, i, generation, future = event
        try:
            result = future.result()
        except (BrokenProcessPool, CancelledError) as exc:
            if isinstance(exc, BrokenProcessPool) and generation == self._generation:
                self._rebuild()
            return  # submitted again (or answered as lost) by the rebuild
        self.answer(i, result)

    def _rebuild(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._restarts += 1
        self._generation += 1
        if self._restarts > MAX_POOL_RESTARTS:
            self._given_up = True
        else:
            self._pool = self._start()
        for i, task in enumerate(self.tasks):
            if i not in self.done:
                self.submit(i, task)

    def close(self, *, failed: bool) -> None:
        if failed:  # Ctrl+C: end the worker processes (their running tasks with them)
            for process in dict(getattr(self._pool, "_processes", None) or {}).values():
                process.terminate()
            self._pool.shutdown(wait=False, cancel_futures=True)
        else:
            self._pool.shutdown(wait=True)
