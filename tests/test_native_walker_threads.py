"""The compiled walker's helper threads, held to hashes computed here with the xxhash package.

native/tarwalk.c hashes files of ``WORKER_BYTES`` and more on a worker thread and stores their
hashes in their entries once the worker is done; a window of a ``FileSpan`` is mapped without
its page-table entries, which a populater thread maps ahead of the walker (layers/window.py).
A hash stored in the wrong entry, one missing, a hard link that copied its target's hash
before the worker wrote it, or entries out of order would show here: the expected entries are
computed from the member bytes, not from either walker.
"""

from __future__ import annotations

import io
import random
import tarfile
import tempfile
from typing import Any

import pytest
import xxhash

from layerscope.layers import FileSpan, native, scan_layer
from layerscope.layers import window as window_module
from layerscope.model import EntryKind, KeptFiles

Member = tuple[str, bytes, str]
"""name, data (regular files), hard-link target ('' for a regular file)."""


def _tarwalk() -> Any:
    if native.NATIVE_WALK is None:
        pytest.fail("layerscope._tarwalk is not built or not used (see test_native_walker.py)")
    from layerscope import _tarwalk  # type: ignore[attr-defined]

    return _tarwalk


def _members(big: int, count: int) -> list[Member]:
    """More big files than the worker takes at once, .pyc files among them, small files between,
    hard links right after their (big) targets (read by either walker), and a big file written
    twice."""
    rng = random.Random(17)
    pool = rng.randbytes(1 << 20)
    out: list[Member] = []
    for i in range(count):
        size = big + rng.randrange(0, 6000)
        start = rng.randrange(0, len(pool) - size)
        name = f"big/f{i:05d}" + (".pyc" if i % 10 == 3 else ".bin")
        out.append((name, pool[start : start + size], ""))
        if i % 3 == 0:
            out.append((f"small/s{i:05d}", pool[start : start + rng.randrange(0, 900)], ""))
        if i % 50 == 7:
            # a long name (a GNU long-name record): the Python walker reads this link, while
            # its target's hash may still be on the worker
            out.append((f"links/{'n' * 120}{i:05d}", b"", name))
            out.append((f"links/l{i:05d}", b"", name))
    out.append(("big/f00011.bin", pool[: big + 1], ""))  # written again: the entry is replaced
    out.append(("links/again", b"", "big/f00011.bin"))
    return out


def _tar(members: list[Member]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data, link in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if link:
                info.type, info.linkname = tarfile.LNKTYPE, link
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _expected(members: list[Member]) -> list[tuple[Any, ...]]:
    """(path, kind, size, content hash, body hash, link target) in tar order; a path written
    again keeps its first place (a dict keeps the first insertion's order)."""
    seen: dict[str, tuple[Any, ...]] = {}
    for name, data, link in members:
        path = "/" + name
        if link:
            target = seen["/" + link]
            seen[path] = (path, EntryKind.HARDLINK, 0, target[3], target[4], "/" + link)
        else:
            body = xxhash.xxh3_64_hexdigest(data[16:]) if name.endswith(".pyc") else None
            seen[path] = (path, EntryKind.FILE, len(data), xxhash.xxh3_64_hexdigest(data), body,
                          None)  # fmt: skip
    return list(seen.values())


def _got(blob: Any, pure: bool = False) -> list[tuple[Any, ...]]:
    scan = scan_layer(blob, pure_python=pure)
    return [(e.path, e.kind, e.size_bytes, e.content_hash, e.body_hash, e.link_target)
            for e in scan.entries if e.kind in (EntryKind.FILE, EntryKind.HARDLINK)]  # fmt: skip


def test_big_files_hashed_on_the_worker_match_xxhash() -> None:
    tarwalk = _tarwalk()
    members = _members(tarwalk.WORKER_BYTES, tarwalk.WORKER_JOBS + 60)
    blob = _tar(members)
    want = _expected(members)
    assert sum(1 for m in members if len(m[1]) >= tarwalk.WORKER_BYTES) > tarwalk.WORKER_JOBS
    assert _got(memoryview(blob)) == want  # one buffer: more jobs than the worker takes at once
    assert _got(memoryview(blob), pure=True) == want
    with tempfile.TemporaryFile() as handle:
        handle.write(b"y" * 777 + blob)
        handle.flush()
        span = FileSpan(handle.fileno(), 777, len(blob))
        for window in (window_module.MAP_BYTES, 1 << 20, 300_000):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(window_module, "MAP_BYTES", window)
                assert _got(span) == want, window


def test_data_skipped_past_the_window() -> None:
    """An entry whose data the walker skips (an unknown type) past the end of the window: the
    next window is mapped where the walker lands, and the entries still match."""
    tarwalk = _tarwalk()
    members = _members(tarwalk.WORKER_BYTES, 40)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("unknown-type")
        info.type, info.size = b"Z", 3 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    blob = buf.getvalue()[: 512 + (3 << 20)] + _tar(members)
    with tempfile.TemporaryFile() as handle:
        handle.write(blob)
        handle.flush()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(window_module, "MAP_BYTES", 1 << 20)
            assert _got(FileSpan(handle.fileno(), 0, len(blob))) == _expected(members)


def test_a_mapped_layer_keeps_only_a_few_windows_mapped(tmp_path: Any) -> None:
    """However long the layer, only the last few windows of a ``FileSpan`` stay mapped (their
    pages count in the RSS): windows handed to the unmapper thread must not pile up while the
    compiled walker holds the GIL. Counted in /proc/self/maps whenever the walk asks about a
    kept file, every tenth window or so."""
    _tarwalk()
    rng = random.Random(5)
    pool = rng.randbytes(1 << 20)
    members: list[Member] = []
    for i in range(600):  # about 48 MiB: 48 windows of 1 MiB
        size = 80_000 + rng.randrange(0, 8000)
        start = rng.randrange(0, len(pool) - size)
        members.append((f"data/f{i:04d}.bin", pool[start : start + size], ""))
        if i % 120 == 119:
            members.append((f"etc/c{i:04d}.conf", b"k=v\n", ""))
    path = tmp_path / "layer.tar"
    path.write_bytes(_tar(members))
    mapped: list[int] = []

    def wants(name: str) -> bool:
        with open("/proc/self/maps") as maps:
            mapped.append(sum(1 for line in maps if line.rstrip().endswith(str(path))))
        return True

    with open(path, "rb") as handle, pytest.MonkeyPatch.context() as patch:
        patch.setattr(window_module, "MAP_BYTES", 1 << 20)
        scan = scan_layer(
            FileSpan(handle.fileno(), 0, path.stat().st_size),
            keep=KeptFiles((".conf",), 1 << 10, wants),
        )
    assert len(scan.contents) == len(mapped) == 5
    # the window walked, the two before it, two being unmapped, and one still viewed
    assert max(mapped) <= 6, mapped
