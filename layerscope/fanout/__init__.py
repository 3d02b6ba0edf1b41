"""Run one function over many independent tasks: in this process, in local worker processes,
or on a Dask scheduler (``on_dask``, the only module that imports dask).

The function must be a picklable top-level function that answers instead of raising (the
registry scan's ``read_layer``). Results come back to the caller, in completion order, through
``on_result``; the caller merges them. A worker process that dies takes its task elsewhere: the
pool is rebuilt and the unfinished tasks are submitted again (at most ``MAX_POOL_RESTARTS``
times; after that they are answered with ``lost``).
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from ..errors import UsageError

T = TypeVar("T")
R = TypeVar("R")

IN_PROCESS_THREADS = 3
"""Tasks run at once with ``workers=1`` (as many as ``inspect`` pulls layers at once)."""
MAX_POOL_RESTARTS = 3
"""How many times a dead worker process is replaced before its tasks are given up."""


def run_tasks(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    on_result: Callable[[int, R], None],
    lost: Callable[[int, str], R],
    workers: int = 1,
    dask: str | None = None,
    names: Sequence[str] | None = None,
) -> list[R]:
    """``fn`` over ``tasks``; results in task order. ``on_result(i, result)`` is called as each
    finishes; ``lost(i, why)`` makes the answer for a task no worker could finish. ``names``
    (unique per task) name the tasks on a Dask scheduler."""
    if dask is not None:
        from .on_dask import run_on_dask

        return run_on_dask(fn, tasks, dask, on_result=on_result, lost=lost, names=names)
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    if workers == 1 or len(tasks) <= 1:
        return _run_threads(fn, tasks, min(IN_PROCESS_THREADS, max(1, len(tasks))), on_result)
    return _run_processes(fn, tasks, workers, on_result, lost)


def _run_threads(
    fn: Callable[[T], R], tasks: Sequence[T], threads: int, on_result: Callable[[int, R], None]
) -> list[R]:
    """In this process, ``threads`` tasks at a time (downloads wait on the network and the
    decompressors and hashes release the GIL); results are handed over on the calling thread.
    The threads are daemons: Ctrl+C does not wait for a download to end."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(tasks)):
        todo.put(i)
    answers: queue.SimpleQueue[tuple[int, R | None, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                answers.put((i, fn(tasks[i]), None))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                answers.put((i, None, exc))

    for n in range(threads):
        threading.Thread(target=work, name=f"layerscope-task-{n}", daemon=True).start()
    done: dict[int, R] = {}
    try:
        while len(done) < len(tasks):
            i, result, error = answers.get()
            if error is not None:
                raise error
            done[i] = result  # type: ignore[assignment]
            on_result(i, done[i])
    finally:
        stop.set()
    return [done[i] for i in range(len(tasks))]


def _run_processes(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    workers: int,
    on_result: Callable[[int, R], None],
    lost: Callable[[int, str], R],
) -> list[R]:
    done: dict[int, R] = {}
    restarts = 0
    context = multiprocessing.get_context("forkserver")
    while len(done) < len(tasks):
        todo = [i for i in range(len(tasks)) if i not in done]
        pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context)
        broken = False
        try:
            futures: dict[Future[R], int] = {pool.submit(fn, tasks[i]): i for i in todo}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    done[futures[future]] = result
                    on_result(futures[future], result)
        except BaseException:  # Ctrl+C: stop the workers too, not only the queue
            _terminate(pool)
            raise
        pool.shutdown(wait=not broken, cancel_futures=True)
        if broken:
            restarts += 1
            if restarts > MAX_POOL_RESTARTS:
                for i in range(len(tasks)):
                    if i not in done:
                        done[i] = lost(i, "a worker process died while reading it")
                        on_result(i, done[i])
    return [done[i] for i in range(len(tasks))]


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued tasks and end the worker processes (their running tasks with them)."""
    processes = dict(getattr(pool, "_processes", None) or {})
    for process in processes.values():
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
