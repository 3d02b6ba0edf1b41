"""Deterministic, realistic FileEntry sets for the store tests and the cache benchmark."""

from __future__ import annotations

import random

from layerscope.model import Digest, EntryKind, FileEntry, LayerContents


def diff_id(n: int) -> Digest:
    """A well-formed, made-up sha256 diff_id numbered ``n``."""
    return Digest(f"sha256:{n:064x}")


def realistic_entries(count: int, seed: int = 0) -> list[FileEntry]:
    """``count`` entries shaped like a distro + packages layer: mostly files with xxh3 hashes,
    some dirs, symlinks, hardlinks, whiteouts, a few devices, xattrs and PAX float mtimes."""
    rng = random.Random(seed)
    dirs = [
        f"/usr/lib/python3.11/site-packages/pkg{i}/sub{j}" for i in range(400) for j in range(8)
    ]
    out: list[FileEntry] = []
    for i in range(count):
        parent = rng.choice(dirs)
        roll = rng.random()
        mtime: float = 1_700_000_000 + rng.randrange(50)
        if roll < 0.05:
            mtime = mtime + rng.random()  # PAX sub-second mtime: a float that must stay a float
        if roll < 0.08:
            entry = FileEntry(f"{parent}/d{i}", EntryKind.DIR, 0, 0o755, 0, 0, mtime)
        elif roll < 0.12:
            entry = FileEntry(
                f"{parent}/l{i}.so", EntryKind.SYMLINK, 0, 0o777, 0, 0, mtime, f"../lib{i % 97}.so"
            )
        elif roll < 0.13:
            entry = FileEntry(
                f"{parent}/h{i}", EntryKind.HARDLINK, 0, 0o644, 0, 0, mtime, f"{parent}/f{i - 1}"
            )
        elif roll < 0.135:
            entry = FileEntry(f"{parent}/gone{i}", EntryKind.WHITEOUT, 0, 0, 0, 0, mtime)
        elif roll < 0.136:
            entry = FileEntry(
                f"/dev/x{i}", EntryKind.CHAR, 0, 0o666, 0, 0, mtime, device=(1, i % 256)
            )
        else:
            xattrs: tuple[tuple[str, str], ...] = ()
            if roll > 0.999:
                xattrs = (("security.capability", "0100000200200000"),)
            entry = FileEntry(
                f"{parent}/f{i}.py",
                EntryKind.FILE,
                rng.choice((0, rng.randrange(100_000), rng.randrange(1 << 26))),
                rng.choice((0o644, 0o644, 0o755, 0o600)),
                rng.choice((0, 0, 0, 1000)),
                rng.choice((0, 0, 0, 1000)),
                mtime,
                None,
                f"{rng.getrandbits(64):016x}",
                xattrs,
            )
        out.append(entry)
    return out


def contents_of(entries: list[FileEntry]) -> LayerContents:
    """LayerContents whose size is the file sizes summed and tar size a made-up 512-multiple."""
    size = sum(e.size_bytes for e in entries if e.kind is EntryKind.FILE)
    return LayerContents(tuple(entries), size, 512 * (len(entries) + 2) + size)


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
