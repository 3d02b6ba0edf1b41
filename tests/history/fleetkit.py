"""Synthetic build records for the store's fleet tests, soak and benchmark.

Build ``n`` of a series has ``layers`` layers; layer ``j`` changes every ``2**j`` builds
counted from the top (the last layer every build, the one below every second build, ...), so a
series has the hits and misses of a real one. Everything is derived from (repository, n):
two processes that record build ``n`` record the very same record.
"""

from __future__ import annotations

import hashlib

from layerscope.model import BuildRecord, Digest, LayerRecord


def _digest(*parts: object) -> Digest:
    return Digest("sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest())


def synthetic_build(repository: str, n: int, *, layers: int = 30) -> BuildRecord:
    """Build ``n`` of ``repository``'s series."""
    records = []
    chain = ""
    for j in range(layers):
        generation = n >> max(0, layers - 1 - j)  # the top layer changes every build
        diff_id = _digest(repository, "layer", j, generation)
        chain = _digest(chain, diff_id) if j else diff_id
        step = f"RUN step {j}" if j else "ADD rootfs /"
        records.append(
            LayerRecord(
                index=j,
                diff_id=diff_id,
                chain_id=Digest(chain),
                size_bytes=1000 * (j + 1) + generation % 7,
                compressed_size_bytes=500 * (j + 1),
                created_by=f"/bin/sh -c {step}",
                instruction=step,
                history_created=None,
                is_base=j == 0,
            )
        )
    day, rest = divmod(60 * n, 86400)
    created = f"2024-01-{1 + day:02d}T{rest // 3600:02d}:{rest // 60 % 60:02d}:00Z"
    return BuildRecord(
        repository,
        f"b{n}",
        _digest(repository, "image", n),
        created,
        f"{repository}:b{n}",
        tuple(records),
        1_700_000_000.0 + n,
    )
