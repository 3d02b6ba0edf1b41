"""The fan-out on a running ``dask.distributed`` scheduler (the optional ``layerscope[dask]``).

One task per item, submitted under a unique key; results are gathered on this client as they
finish. A worker that dies mid-task is the scheduler's to handle: it runs the task on another
worker (up to its ``allowed-failures``), after which the task is answered with ``lost``. Ctrl+C
cancels every task still queued or running.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import SourceUnavailableError, UsageError

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


def run_on_dask(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    address: str,
    *,
    on_result: Callable[[int, R], None],
    lost: Callable[[int, str], R],
    names: Sequence[str] | None = None,
) -> list[R]:
    """``fn`` over ``tasks`` on the scheduler at ``address``; results in task order."""
    distributed = _distributed()
    # Ctrl+C landing in distributed's sync() before its coroutine has started makes the
    # event loop log a NameError traceback from sync's cancel callback (distributed 2026.11):
    # noise on the user's terminal after 'interrupted'. Task failures reach us as results.
    logging.getLogger("tornado.application").setLevel(logging.CRITICAL)
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnavailableError(
            f"cannot reach the Dask scheduler at {address} ({exc})"
        ) from exc
    run = uuid.uuid4().hex[:12]
    futures: list[Any] = []
    try:
        keys = [
            f"layerscope-{run}-{names[i] if names is not None else i}" for i in range(len(tasks))
        ]
        for task, key in zip(tasks, keys, strict=True):
            # one at a time: Ctrl+C half-way through still cancels those already submitted
            futures.append(client.submit(fn, task, key=key, pure=False))
        index = {future.key: i for i, future in enumerate(futures)}
        done: dict[int, R] = {}
        for future in distributed.as_completed(futures, loop=client.loop):
            i = index[future.key]
            try:
                result = future.result()
            except distributed.KilledWorker as exc:
                result = lost(i, f"workers kept dying while reading it ({exc})")
            except Exception as exc:  # noqa: BLE001 - one task's failure is its answer
                result = lost(i, f"{type(exc).__name__}: {exc}")
            done[i] = result
            on_result(i, result)
        return [done[i] for i in range(len(tasks))]
    except BaseException:
        if futures:
            try:
                client.cancel(futures)
            except Exception:  # noqa: BLE001 - a lost scheduler must not hide the first error
                pass
        raise
    finally:
        client.close()
