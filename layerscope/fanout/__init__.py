"""Run one function over many independent tasks: in this process, in local worker processes,
or on a Dask scheduler (``on_dask``, the only module that imports dask).

The function must be a picklable top-level function that answers instead of raising (the
registry scan's ``read_layer``). Tasks may arrive while others run (a ``TaskFeed``: the scan
hands over each layer as soon as the listing names it), and the workers start before the first
one does. Results come back to the caller, in completion order, through ``on_result``; the
caller merges them. A worker process that dies takes its task elsewhere: the pool is rebuilt
and the unfinished tasks are submitted again (at most ``MAX_POOL_RESTARTS`` times; after that
they are answered with ``lost``).
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ..errors import UsageError

T = TypeVar("T")
R = TypeVar("R")

IN_PROCESS_THREADS = 3
"""Tasks run at once with ``workers=1`` (as many as ``inspect`` pulls layers at once)."""
MAX_POOL_RESTARTS = 3
"""How many times a dead worker process is replaced before its tasks are given up."""


class TaskFeed(Generic[T]):
    """Tasks handed to ``run_tasks`` while it runs: ``put`` each (from any thread), then
    ``close``, or ``fail`` (``run_tasks`` raises that error). The backends post their answers
    on the same queue, so one loop on the caller's thread sees everything in order."""

    def __init__(self, tasks: Sequence[T] | None = None) -> None:
        self.events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._back: deque[tuple[Any, ...]] = deque()
        if tasks is not None:
            for task in tasks:
                self.put(task)
            self.close()

    def put(self, task: T) -> None:
        self.events.put(("task", task))

    def close(self) -> None:
        self.events.put(("end",))

    def fail(self, error: BaseException) -> None:
        self.events.put(("fail", error))

    def next(self, *, block: bool = True) -> tuple[Any, ...] | None:
        """The next event (None: none yet, when not ``block``); only the loop's thread."""
        if self._back:
            return self._back.popleft()
        if not block:
            try:
                return self.events.get_nowait()
            except queue.Empty:
                return None
        return self.events.get()

    def unget(self, event: tuple[Any, ...]) -> None:
        """Put ``event`` back: ``next`` returns it first."""
        self._back.appendleft(event)


class Backend(Generic[T, R]):
    """Where the tasks run. ``submit`` starts one; ``take`` handles an answer event the
    backend posted on the feed's queue; ``done`` holds every task answered."""

    def __init__(self, on_result: Callable[[int, R], None]) -> None:
        self.on_result = on_result
        self.tasks: list[T] = []
        self.done: dict[int, R] = {}

    def answer(self, i: int, result: R) -> None:
        if i not in self.done:
            self.done[i] = result
            self.on_result(i, result)

    def submit(self, i: int, task: T) -> None:
        raise NotImplementedError

    def ended(self) -> None:
        """No more tasks will come."""

    def take(self, event: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def close(self, *, failed: bool) -> None:
        """Stop the workers (``failed``: at once, running tasks with them)."""


def drive(feed: TaskFeed[T], backend: Backend[T, R]) -> list[R]:
    """The loop on the caller's thread: new tasks to the backend, answers to ``on_result``."""
    ended = False
    failed = True
    try:
        while not ended or len(backend.done) < len(backend.tasks):
            event = feed.next()
            assert event is not None
            if event[0] == "task":
                backend.tasks.append(event[1])
                backend.submit(len(backend.tasks) - 1, event[1])
            elif event[0] == "end":
                ended = True
                backend.ended()
            elif event[0] == "fail":
                raise event[1]
            else:
                backend.take(event)
        failed = False
    finally:  # Ctrl+C or a failed feed: the workers stop too, not only the queue
        backend.close(failed=failed)
    return [backend.done[i] for i in range(len(backend.tasks))]


def run_tasks(
    fn: Callable[[T], R],
    tasks: Sequence[T] | TaskFeed[T],
    *,
    on_result: Callable[[int, R], None],
    lost: Callable[[int, str], R],
    workers: int = 1,
    dask: str | None = None,
    name: Callable[[T], str] | None = None,
    weight: Callable[[T], int] | None = None,
) -> list[R]:
    """``fn`` over ``tasks`` (a list, or a feed still being filled); results in task order.
    ``on_result(i, result)`` is called as each finishes (``i``: the task's place in arrival
    order); ``lost(i, why)`` makes the answer for a task no worker could finish. ``name``
    (unique per task) names the tasks on a Dask scheduler; ``weight`` (a layer's bytes) says
    which are light enough to go there several in one task."""
    feed = tasks if isinstance(tasks, TaskFeed) else TaskFeed(tasks)
    if dask is not None:
        from .dask_relay import RelayBackend

        return drive(feed, RelayBackend(fn, dask, feed, on_result, lost, name, weight))
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    if workers == 1:
        return drive(feed, _Threads(fn, IN_PROCESS_THREADS, feed, on_result))
    from .processes import ProcessBackend

    return drive(feed, ProcessBackend(fn, workers, feed, on_result, lost))


class _Threads(Backend[T, R]):
    """In this process, ``threads`` tasks at a time (downloads wait on the network and the
    decompressors and hashes release the GIL); results are handed over on the calling thread.
    The threads are daemons: Ctrl+C does not wait for a download to end."""

    def __init__(
        self,
        fn: Callable[[T], R],
        threads: int,
        feed: TaskFeed[T],
        on_result: Callable[[int, R], None],
    ) -> None:
        super().__init__(on_result)
        self._todo: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._threads = threads
        for n in range(threads):
            threading.Thread(
                target=self._work, args=(fn, feed), name=f"layerscope-task-{n}", daemon=True
            ).start()

    def _work(self, fn: Callable[[T], R], feed: TaskFeed[T]) -> None:
        while not self._stop.is_set():
            i = self._todo.get()
            if i is None or self._stop.is_set():
                return
            try:
                feed.events.put(("result", i, fn(self.tasks[i]), None))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                feed.events.put(("result", i, None, exc))

    def submit(self, i: int, task: T) -> None:
        self._todo.put(i)

    def ended(self) -> None:
        for _ in range(self._threads):
            self._todo.put(None)

    def take(self, event: tuple[Any, ...]) -> None:
        _kind, i, result, error = event
        if error is not None:
            raise error
        self.answer(i, result)

    def close(self, *, failed: bool) -> None:
        self._stop.set()
        for _ in range(self._threads):
            self._todo.put(None)
