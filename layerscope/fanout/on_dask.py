"""The fan-out on a running ``dask.distributed`` scheduler (the optional ``layerscope[dask]``).

One task per item, submitted under a unique key as soon as it arrives (the scan is still
listing: the import of ``distributed`` and the connection overlap the listing too). Finished
tasks are gathered in batches: each answer that lands takes every other one finished by then
in the same round trip, and the scheduler forgets a task once its result is here. A worker
that dies mid-task is the scheduler's to handle: it runs the task on another worker (up to its
``allowed-failures``), after which the task is answered with ``lost``. Ctrl+C cancels every
task still queued or running.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import SourceUnavailableError, UsageError
from . import Backend, TaskFeed

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT_S = 10


class SchedulerUnavailableError(SourceUnavailableError):
    """The Dask scheduler cannot be reached."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise UsageError("--dask needs the dask extra: pip install 'layerscope[dask]'") from exc
    return distributed


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
        self._run = uuid.uuid4().hex[:12]
        self._pending: dict[int, Any] = {}
        """Futures submitted and not yet gathered (what Ctrl+C cancels)."""

    def submit(self, i: int, task: T) -> None:
        key = f"layerscope-{self._run}-{self._name(task) if self._name is not None else i}"
        # one at a time: Ctrl+C half-way through still cancels those already submitted
        future = self._client.submit(self._fn, task, key=key, pure=False)
        self._pending[i] = future
        future.add_done_callback(lambda _f: self._feed.events.put(("done", i)))

    def take(self, event: tuple[Any, ...]) -> None:
        landed = [event[1]]
        while (more := self._feed.next(block=False)) is not None:
            # every other task finished by now comes in the same gather
            if more[0] != "done":
                self._feed.unget(more)  # a new task or the end: right after this batch
                break
            landed.append(more[1])
        futures = {i: self._pending[i] for i in landed if i in self._pending}
        finished = [i for i, f in futures.items() if f.status == "finished"]
        values = self._client.gather([futures[i] for i in finished])
        for i, value in zip(finished, values, strict=True):
            self._settle(i, value)
        for i, future in futures.items():
            if i not in finished:
                self._settle(i, self._one(i, future))

    def _one(self, i: int, future: Any) -> R:
        """A task that did not simply finish: its error as the answer (or its result, when
        its data was lost with a worker and the scheduler ran it again)."""
        try:
            return future.result()  # type: ignore[no-any-return]
        except self._distributed.KilledWorker as exc:
            return self._lost(i, f"workers kept dying while reading it ({exc})")
        except Exception as exc:  # noqa: BLE001 - one task's failure is its answer
            return self._lost(i, f"{type(exc).__name__}: {exc}")

    def _settle(self, i: int, result: R) -> None:
        del self._pending[i]  # the scheduler forgets the task: its result is here
        self.answer(i, result)

    def close(self, *, failed: bool) -> None:
        try:
            if failed and self._pending:
                try:
                    self._client.cancel(list(self._pending.values()))
                except Exception:  # noqa: BLE001 - a lost scheduler must not hide the error
                    pass
        finally:
            self._pending.clear()
            self._client.close()
