"""The fan-out on a running ``dask.distributed`` scheduler (the optional ``layerscope[dask]``).

Items are submitted under unique keys as soon as they arrive (the scan is still listing: the
import of ``distributed`` and the connection overlap the listing too), as long as fewer than
two per worker thread are out. Items that arrive while that many are out wait, and go out
together as one task (``run_batch``) when one comes back, up to ``MAX_BATCH_WEIGHT`` (the
caller's weight: a layer's bytes) or ``MAX_BATCH_ITEMS``: a heavy item is a task of its own,
light ones do not each pay the scheduler's round trip between two tasks, during which a
worker idles. Finished tasks are gathered together: each that lands takes every other one
finished by then in the same round trip, and the scheduler forgets a task once its result is
here. A worker that dies mid-task is the scheduler's to handle: it runs the task on another
worker (up to its ``allowed-failures``), after which its items are answered with ``lost``.
Ctrl+C cancels every task still queued or running.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import SourceUnavailableError, UsageError
from . import Backend, TaskFeed

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


def run_batch(fn: Callable[[T], R], items: list[T]) -> list[R]:
    """The task on a worker: ``fn`` over a batch of items, one after the other."""
    return [fn(item) for item in items]


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

    def submit(self, i: int, task: T) -> None:
        self._waiting.append(i)
        self._send()

    def _send(self) -> None:
        """Submit what waits, in batches, while fewer than the most tasks are out."""
        while self._waiting and len(self._out) < self._most_out:
            batch = [self._waiting.popleft()]
            weight = self._weight(self.tasks[batch[0]])
            while self._waiting and len(batch) < MAX_BATCH_ITEMS:
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
