"""Benchmark images: many files, lazily generated entries and streamed contents."""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from layerscope.testing._builder_strings import copy_instr, nop
from layerscope.testing.spec import (
    Dir,
    EmptyHistory,
    Entry,
    File,
    ImageSpec,
    LayerSpec,
    Synthetic,
    Whiteout,
)

_TEXT_EXT = (".py", ".txt", ".json", ".h", ".md")
_BIN_EXT = (".so", ".bin", ".pyc", ".gz")
_PER_DIR = 64
_DIRS_PER_TOP = 32


class LazyEntries(Sequence[Entry]):
    """A Sequence of entries produced on iteration (never materialised)."""

    def __init__(self, length: int, factory: Callable[[], Iterator[Entry]]) -> None:
        self._len = length
        self._factory = factory

    def __iter__(self) -> Iterator[Entry]:
        yield from self._factory()

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, i: int) -> Entry: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Entry]: ...
    def __getitem__(self, i: int | slice) -> Entry | Sequence[Entry]:
        return list(self)[i]


def _file_path(i: int) -> str:
    d = i // _PER_DIR
    ext = (_TEXT_EXT + _BIN_EXT)[(i * 7) % 9]
    return f"{_dir_path(d)}/m{i:07d}{ext}"


def _dir_path(d: int) -> str:
    return f"/usr/lib/app/pkg{d // _DIRS_PER_TOP:04d}/sub{d % _DIRS_PER_TOP:02d}"


def _kind(path: str) -> str:
    return "text" if path.endswith(_TEXT_EXT) else "binary"


def _file_sizes(files: int, total_bytes: int, seed: int) -> array[int]:
    """Sizes of the base layer's files, by file number: summing to ``total_bytes`` exactly,
    1% of the files holding ~60% of the bytes, the big ones scattered through the tree."""
    rnd = random.Random(seed)
    sizes = array("q", (0 for _ in range(files)))
    big = max(1, files // 100)
    small_total = total_bytes * 4 // 10 if files > big else 0
    for i in range(files):
        sizes[i] = rnd.randint(1, 1000)
    small_w = sum(sizes[big:]) or 1
    acc = 0
    for i in range(big, files):
        sizes[i] = sizes[i] * small_total // small_w
        acc += sizes[i]
    rest = total_bytes - acc
    for i in range(big):
        sizes[i] = rest // big + (1 if i < rest % big else 0)
    order = list(range(files))
    rnd.shuffle(order)  # big files scattered through the tree
    size_of = array("q", (0 for _ in range(files)))
    for i, j in enumerate(order):
        size_of[j] = sizes[i]
    return size_of


def large_spec(
    files: int = 100_000,
    total_bytes: int = 2 * 1024**3,
    whiteouts: int = 1_000,
    rewrites: int = 1_000,
    seed: int = 0,
) -> ImageSpec:
    """A benchmark image: base layer of ``files`` files summing to ``total_bytes`` exactly, then a
    layer with ``whiteouts`` whiteouts (one in ten deletes a whole directory) and ``rewrites``
    rewritten files (even ones get new content, odd ones only a mode change).

    Entries are generated lazily and contents streamed, so memory stays small at any size.
    Sizes: 1% of files hold ~60% of the bytes; the rest are spread evenly at random.
    """
    size_of = _file_sizes(files, total_bytes, seed)
    n_dirs = (files + _PER_DIR - 1) // _PER_DIR

    def base() -> Iterator[Entry]:
        yield Dir("/usr")
        yield Dir("/usr/lib")
        yield Dir("/usr/lib/app")
        for i in range(files):
            d = i // _PER_DIR
            if i % _PER_DIR == 0:
                if d % _DIRS_PER_TOP == 0:
                    yield Dir(f"/usr/lib/app/pkg{d // _DIRS_PER_TOP:04d}")
                yield Dir(_dir_path(d))
            p = _file_path(i)
            yield File(p, Synthetic(size_of[i], f"{seed}:{i}", _kind(p)))  # type: ignore[arg-type]

    dir_wh = min(whiteouts // 10, max(0, n_dirs - 2))
    file_wh = whiteouts - dir_wh
    wh_dirs = [n_dirs - 1 - k for k in range(dir_wh)]  # last directories, wholesale
    usable = (n_dirs - dir_wh) * _PER_DIR
    usable = min(usable, files)
    step = max(1, usable // max(1, file_wh + rewrites))
    picks = [k * step for k in range(file_wh + rewrites) if k * step < usable]
    wh_files, rw_files = picks[:file_wh], picks[file_wh:]

    def top() -> Iterator[Entry]:
        for d in wh_dirs:
            yield Whiteout(_dir_path(d))
        for i in wh_files:
            yield Whiteout(_file_path(i))
        for k, i in enumerate(rw_files):
            p = _file_path(i)
            if k % 2 == 0:
                yield File(p, Synthetic(size_of[i], f"{seed}:{i}:v2", _kind(p)))  # type: ignore[arg-type]
            else:
                yield File(p, Synthetic(size_of[i], f"{seed}:{i}", _kind(p)), mode=0o664)  # type: ignore[arg-type]

    n_base = 3 + files + n_dirs + (n_dirs + _DIRS_PER_TOP - 1) // _DIRS_PER_TOP
    return ImageSpec(
        layers=[
            LayerSpec(LazyEntries(n_base, base), created_by=copy_instr("ADD file", "large", "/")),
            LayerSpec(
                LazyEntries(len(wh_dirs) + len(wh_files) + len(rw_files), top),
                created_by="/bin/sh -c rm -rf stale && ./regen.sh",
            ),
        ],
        history_extra=[EmptyHistory(nop('CMD ["/usr/lib/app/run"]'), after=1)],
        repo_tags=[f"example.com/large:{files}"],
    )
