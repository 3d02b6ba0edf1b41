"""Two CI jobs sharing a cache: parallel processes never corrupt it or read half a layer."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from storekit import contents_of, diff_id, realistic_entries, worker

from layerscope.store import Database, LayerCache


def test_four_processes_put_and_get_overlapping_layers(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite3")  # not created yet: the processes race to create it
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(path, w, 12, results)) for w in range(4)]
    for proc in procs:
        proc.start()
    problems = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert problems == [[], [], [], []]
    with Database(path) as db:
        assert db.integrity_check() == "ok"
        assert db.warnings == []
    with LayerCache(path) as cache:
        for n in range(6):
            assert cache.get(diff_id(n)) == contents_of(realistic_entries(300 + n * 50, seed=n))
        assert cache.info().layer_count == 6


def test_threads_may_share_one_cache(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    expected = {n: contents_of(realistic_entries(200, seed=n)) for n in range(8)}
    with LayerCache(tmp_path / "db") as cache:

        def job(n: int) -> bool:
            cache.put(diff_id(n), expected[n])
            return all(cache.get(diff_id(m)) in (None, expected[m]) for m in range(8))

        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(job, range(8)))
        assert all(cache.get(diff_id(n)) == expected[n] for n in range(8))
        assert cache.warnings == ()
