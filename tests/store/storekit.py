"""The store tests' helpers: the entry sets come from ``layerscope.testing.memory``."""

from __future__ import annotations

from layerscope.model import Digest
from layerscope.testing.memory import layer_contents as contents_of
from layerscope.testing.memory import made_up_diff_id as diff_id
from layerscope.testing.memory import realistic_entries

__all__ = ["contents_of", "diff_id", "realistic_entries", "worker"]


def worker(db_path: str, worker_id: int, rounds: int, results: object) -> None:
    """Concurrency test body: put and get overlapping diff_ids; report mismatches."""
    from layerscope.store import LayerCache

    bad: list[str] = []
    with LayerCache(db_path) as cache:
        for r in range(rounds):
            n = (worker_id + r) % 6  # 6 shared ids, every process touches every id
            expected = contents_of(realistic_entries(300 + n * 50, seed=n))
            cache.put(diff_id(n), expected, digest=Digest(f"sha256:{n + 1000:064x}"))
            for m in range(6):
                got = cache.get(diff_id(m))
                if got is not None and got != contents_of(realistic_entries(300 + m * 50, seed=m)):
                    bad.append(f"worker {worker_id}: layer {m} came back different")
        bad.extend(f"worker {worker_id}: {w}" for w in cache.warnings)
    results.put(bad)  # type: ignore[attr-defined]
