"""Time LayerCache put/get for a 135k-entry layer (the issue's 2 GB / 135k-file image).

Run: .venv/bin/python benchmarks/bench_layer_cache.py [ENTRIES]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from layerscope.store import LayerCache
from layerscope.testing.memory import layer_contents as contents_of
from layerscope.testing.memory import made_up_diff_id as diff_id
from layerscope.testing.memory import realistic_entries


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 135_000
    contents = contents_of(realistic_entries(count))
    with tempfile.TemporaryDirectory() as tmp, LayerCache(Path(tmp) / "bench.sqlite3") as cache:
        for attempt in range(3):
            start = time.perf_counter()
            cache.put(diff_id(attempt), contents)
            put_s = time.perf_counter() - start
            start = time.perf_counter()
            got = cache.get(diff_id(attempt))
            get_s = time.perf_counter() - start
            assert got == contents
            info = cache.info()
            print(
                f"{count} entries: put {put_s:.3f} s, get {get_s:.3f} s, "
                f"{info.encoded_bytes / info.layer_count / 1e6:.2f} MB stored per layer"
            )


if __name__ == "__main__":
    main()
