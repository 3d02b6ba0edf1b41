"""The fan-out on a running ``dask.distributed`` scheduler (the optional ``layerscope[dask]``).

Items are submitted under unique keys as soon as they arrive (the scan is still listing: the
import of ``distributed`` and the connection overlap the listing too), as long as fewer than
two per worker thread are out. Items that arrive while that many are out wait, and go out
together as one task (``run_batch``, three at a time on the worker) when one comes back, up to
``MAX_BATCH_WEIGHT`` (the caller's weight: a layer's bytes), ``MAX_BATCH_ITEMS`` or an equal
share of what waits over the tasks that may be out (the last batches end together): a heavy
item is a task of its own, light ones do not each pay the scheduler's round trip between two
tasks, during which a worker idles. Finished tasks are gathered together: each that lands takes
every other one finished by then in the same round trip, and the scheduler forgets a task once
its result is here. A worker that dies mid-task is the scheduler's to handle: it runs the task
on another worker (up to its ``allowed-failures``), after which its items are answered with
``lost``. Ctrl+C cancels every task still queued or running.

The scan runs this in a relay process (``relay_main``, started by ``dask_relay``): the items
are pickled tasks, the answers the workers' pickled results, forwarded unopened.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import SourceUnavailableError, UsageError
from . import IN_PROCESS_THREADS, Backend, TaskFeed

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT_S = 10
MAX_BATCH_WEIGHT = 16 << 20
"""Items weighing more than this together are not batched (a layer of 16 MB is a task alone)."""
MAX_BATCH_ITEMS = 16
OUT_PER_THREAD = 2
"""Tasks out per worker thread before arriving items wait to be batched."""


class SchedulerUnavailableError(SourceUnavailableError):
    """The Dask scheduler cannot be reached."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise UsageError("--dask needs the dask extra: pip install 'layerscope[dask]'") from exc
    return distributed


class _Failed:
    """Why a task's items could not be answered by a worker."""

    def __init__(self, why: str) -> None:
        self.why = why


BATCH_THREADS = IN_PROCESS_THREADS
"""Items of one batch run at once on a worker: as many as ``--workers 1`` runs at once in its
process (a download waits on the network, and decompressing and hashing it release the GIL)."""


def run_batch(fn: Callable[[T], R], items: list[T]) -> list[R]:
    """The task on a worker: ``fn`` over a batch of items, ``BATCH_THREADS`` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(BATCH_THREADS, len(items))) as pool:
        return list(pool.map(fn, items))


class DaskBackend(Backend[T, R]):
    """The tasks on the scheduler at ``address``."""

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
        self._distributed = distributed = _distributed()
        # Ctrl+C landing in distributed's sync() before its coroutine has started makes the
        # event loop log a NameError traceback from sync's cancel callback (distributed
        # 2026.11): noise on the user's terminal after 'interrupted'. Task failures reach us
        # as results.
        logging.getLogger("tornado.application").setLevel(logging.CRITICAL)
        try:
            self._client = distributed.Client(
                address, timeout=CONNECT_TIMEOUT_S, set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnavailableError(
                f"cannot reach the Dask scheduler at {address} ({exc})"
            ) from exc
        self._fn = fn
        self._feed = feed
        self._lost = lost
        self._name = name
        self._weight = weight or (lambda _item: MAX_BATCH_WEIGHT)
        self._run = uuid.uuid4().hex[:12]
        threads = sum(self._client.nthreads().values())
        self._most_out = OUT_PER_THREAD * max(1, threads)
        self._waiting: deque[int] = deque()
        self._out: dict[str, tuple[Any, list[int]]] = {}
        """Tasks submitted and not yet gathered (what Ctrl+C cancels): key -> future, items."""

    def warm(self, module: str) -> None:
        """Have every worker import ``module`` now (a fresh worker's import of the task's module
        then overlaps the listing instead of delaying its first task)."""
        import importlib
        import threading

        def run() -> None:
            try:
                self._client.run(importlib.import_module, module, on_error="ignore")
            except Exception:  # noqa: BLE001 - only a head start: the first task imports it too
                pass

        threading.Thread(target=run, name="layerscope-warm", daemon=True).start()

    def submit(self, i: int, task: T) -> None:
        self._waiting.append(i)
        if self._feed.events.empty():  # else more are here already (the listing ran ahead of
            self._send()  # the connection): they are shared out together, next time

    def ended(self) -> None:
        self._send()

    def _send(self) -> None:
        """Submit what waits, in batches, while fewer than the most tasks are out."""
        while self._waiting and len(self._out) < self._most_out:
            # what waits is spread over every slot, not put in the first that frees: batches
            # shrink as the queue does, so the last tasks end together
            most = min(MAX_BATCH_ITEMS, -(-len(self._waiting) // self._most_out))
            batch = [self._waiting.popleft()]
            weight = self._weight(self.tasks[batch[0]])
            while self._waiting and len(batch) < most:
                more = self._weight(self.tasks[self._waiting[0]])
                if weight + more > MAX_BATCH_WEIGHT:
                    break
                weight += more
                batch.append(self._waiting.popleft())
            first = self.tasks[batch[0]]
            key = f"layerscope-{self._run}-{self._name(first) if self._name else batch[0]}"
            # one at a time: Ctrl+C half-way through still cancels those already submitted
            if len(batch) == 1:
                future = self._client.submit(self._fn, first, key=key, pure=False)
            else:
                key += f"-and-{len(batch) - 1}"
                items = [self.tasks[i] for i in batch]
                future = self._client.submit(run_batch, self._fn, items, key=key, pure=False)
            self._out[key] = (future, batch)
            future.add_done_callback(lambda _f, key=key: self._feed.events.put(("done", key)))

    def take(self, event: tuple[Any, ...]) -> None:
        landed = [event[1]]
        while (more := self._feed.next(block=False)) is not None:
            # every other task finished by now comes in the same gather
            if more[0] != "done":
                self._feed.unget(more)  # a new item or the end: right after this batch
                break
            landed.append(more[1])
        out = {key: self._out[key] for key in landed if key in self._out}
        finished = [key for key, (future, _items) in out.items() if future.status == "finished"]
        values = self._client.gather([out[key][0] for key in finished])
        for key, value in zip(finished, values, strict=True):
            self._settle(key, value)
        for key, (future, _items) in out.items():
            if key not in finished:
                self._settle(key, self._one(future))
        self._send()

    def _one(self, future: Any) -> Any:
        """A task that did not simply finish: its result (when its data was lost with a
        worker and the scheduler ran it again), else why it failed."""
        try:
            return future.result()
        except self._distributed.KilledWorker as exc:
            return _Failed(f"workers kept dying while reading it ({exc})")
        except Exception as exc:  # noqa: BLE001 - one task's failure is its answer
            return _Failed(f"{type(exc).__name__}: {exc}")

    def _settle(self, key: str, value: Any) -> None:
        """The answers of one task (its result, its batch's results, or why it failed)."""
        _future, items = self._out.pop(key)  # the scheduler forgets the task: its result is here
        for n, i in enumerate(items):
            if isinstance(value, _Failed):
                self.answer(i, self._lost(i, value.why))
            else:
                self.answer(i, value[n] if len(items) > 1 else value)

    def close(self, *, failed: bool) -> None:
        try:
            if failed and self._out:
                try:
                    self._client.cancel([future for future, _items in self._out.values()])
                except Exception:  # noqa: BLE001 - a lost scheduler must not hide the error
                    pass
        finally:
            self._out.clear()
            self._client.close()


# --- the relay: the Dask client in a process of its own (``dask_relay`` starts it) ----------


class Remote:
    """The task a Dask worker runs for the relay: ``item`` is (pickled task, name, weight);
    the function is named (``module:name``) and imported there, and the answer goes back
    pickled, so the relay forwards bytes without importing what they hold."""

    def __init__(self, function: str) -> None:
        self.function = function

    def __call__(self, item: tuple[bytes, str, int]) -> bytes:
        import importlib
        import pickle

        module, _, name = self.function.partition(":")
        fn = getattr(importlib.import_module(module), name)
        return pickle.dumps(fn(pickle.loads(item[0])), protocol=pickle.HIGHEST_PROTOCOL)


class _Cancelled(Exception):
    """The scan ended the relay early (Ctrl+C, an error, or its pipe closed)."""


def _relay_requests(feed: TaskFeed[tuple[bytes, str, int]], stream: Any) -> None:
    """The relay's input thread: the scan's messages into ``feed``."""
    import pickle

    while True:
        try:
            message = pickle.load(stream)
        except (EOFError, OSError, pickle.UnpicklingError):
            feed.fail(_Cancelled())  # the scan is gone: what is still out is cancelled
            return
        if message[0] == "task":
            feed.put(message[1])
        elif message[0] == "end":
            feed.close()
        else:
            feed.fail(_Cancelled())
            return


def relay_main(address: str, function: str, answers: int) -> int:
    """The relay process: tasks from stdin to the scheduler at ``address``, answers to the
    file descriptor ``answers`` (``("result", i, pickled answer)``, ``("lost", i, why)``,
    ``("error", kind, message)``, ``("done",)``)."""
    import os
    import pickle
    import signal
    import sys
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl+C is the scan's to hand on
    out = os.fdopen(answers, "wb")
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        try:
            with lock:
                pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
        except OSError as exc:  # the scan is gone
            raise _Cancelled() from exc

    feed: TaskFeed[tuple[bytes, str, int]] = TaskFeed()
    threading.Thread(target=_relay_requests, args=(feed, sys.stdin.buffer), daemon=True).start()
    from . import drive

    try:
        backend: DaskBackend[tuple[bytes, str, int], Any] = DaskBackend(
            Remote(function),
            address,
            feed,
            lambda i, answer: send(
                ("lost", i, answer.why) if isinstance(answer, _Failed) else ("result", i, answer)
            ),
            lambda _i, why: _Failed(why),
            lambda item: item[1],
            lambda item: item[2],
        )
        backend.warm(function.partition(":")[0])
        drive(feed, backend)
    except _Cancelled:
        return 0
    except UsageError as exc:
        send(("error", "usage", exc.message))
        return 2
    except SourceUnavailableError as exc:
        send(("error", "unavailable", exc.message))
        return 3
    except Exception as exc:  # noqa: BLE001 - told to the scan, which raises it
        send(("error", "other", f"{type(exc).__name__}: {exc}"))
        return 1
    send(("done",))
    return 0


if __name__ == "__main__":  # the relay, run by dask_relay (as the module, not as __main__:
    import os  # Remote must pickle by its importable name)
    import sys

    from layerscope.fanout.on_dask import relay_main as _main

    code = _main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    sys.stderr.flush()
    os._exit(code)  # not a shutdown that waits on the thread still reading stdin
