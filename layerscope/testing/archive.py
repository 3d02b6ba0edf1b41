"""Outer archive records and their emission as a tar (optionally gzipped) or a directory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from layerscope.testing.blobs import Blob
from layerscope.testing.tarstream import TarWriter


@dataclass(frozen=True, slots=True)
class Record:
    """One member of the outer archive: a file (bytes or a file on disk), a dir or a symlink."""

    name: str
    kind: Literal["file", "dir", "symlink"] = "file"
    data: bytes | None = None
    path: Path | None = None
    size: int = 0
    target: str = ""
    mtime: int = 0
    mode: int = 0o644


def blob_record(name: str, blob: Blob, mtime: int = 0, mode: int = 0o644) -> Record:
    """A file record holding a blob's bytes."""
    return Record(name, "file", blob.data, blob.path, blob.size, mtime=mtime, mode=mode)


def bytes_record(name: str, data: bytes, mtime: int = 0, mode: int = 0o644) -> Record:
    """A file record holding literal bytes."""
    return Record(name, "file", data, None, len(data), mtime=mtime, mode=mode)


def dir_record(name: str, mtime: int = 0, mode: int = 0o755) -> Record:
    """A directory record (``name`` without trailing slash)."""
    return Record(name.rstrip("/"), "dir", mtime=mtime, mode=mode)


def walk_order(records: Iterable[Record]) -> list[Record]:
    """Order records like Go's ``filepath.Walk`` over a directory: per-dir children sorted."""
    return sorted(records, key=lambda r: r.name.split("/"))


def dedupe(records: Sequence[Record]) -> list[Record]:
    """Drop later records with a name already present."""
    seen: set[str] = set()
    out: list[Record] = []
    for r in records:
        if r.name not in seen:
            seen.add(r.name)
            out.append(r)
    return out


class _GzipFile:
    """Writes a deterministic gzip stream (mtime 0) to an open file."""

    def __init__(self, f: BinaryIO) -> None:
        import zlib

        from layerscope.testing.blobs import _GzipSink, _HashFile

        self._sink = _GzipSink(_HashFile(f), zlib.Z_DEFAULT_COMPRESSION)

    def write(self, data: bytes) -> int:
        return self._sink.write(data)

    def close(self) -> None:
        self._sink.close()


def write_tar(records: Sequence[Record], dest: Path, outer_gzip: bool = False) -> None:
    """Write ``records`` in order as a tar (two zero blocks at the end, no record padding)."""
    with open(dest, "wb") as f:
        gz = _GzipFile(f) if outer_gzip else None
        tw = TarWriter(gz if gz is not None else f)
        for r in records:
            if r.kind == "dir":
                tw.member(r.name + "/", typeflag=b"5", mode=r.mode, mtime=r.mtime)
            elif r.kind == "symlink":
                tw.member(r.name, typeflag=b"2", linkname=r.target, mode=0o777, mtime=r.mtime)
            else:
                _write_file_member(tw, r)
        tw.close()
        if gz is not None:
            gz.close()


def _write_file_member(tw: TarWriter, r: Record) -> None:
    if r.data is not None:
        tw.member(r.name, typeflag=b"0", content=r.data, mode=r.mode, mtime=r.mtime)
        return
    assert r.path is not None
    from layerscope.testing.tarstream import BLOCK, header_block

    tw.raw(header_block(r.name.encode(), typeflag=b"0", size=r.size, mode=r.mode, mtime=r.mtime))
    with open(r.path, "rb") as src:
        while chunk := src.read(1 << 20):
            tw.raw(chunk)
    if r.size % BLOCK:
        tw.raw(bytes(BLOCK - r.size % BLOCK))


def write_dir(records: Sequence[Record], dest: Path) -> None:
    """Materialise ``records`` under ``dest``; on-disk blobs are moved into place."""
    dest.mkdir(parents=True, exist_ok=True)
    placed: dict[Path, Path] = {}
    for r in records:
        target = dest / r.name
        if r.kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if r.kind == "symlink":
            if target.is_symlink() or target.exists():
                target.unlink()
            os.symlink(r.target, target)
        elif r.data is not None:
            target.write_bytes(r.data)
        else:
            assert r.path is not None
            if r.path.exists():
                os.replace(r.path, target)
            else:  # already placed under another name: copy it
                shutil.copyfile(placed[r.path], target)
            placed.setdefault(r.path, target)
