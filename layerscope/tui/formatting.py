"""Small text helpers shared by the widgets (wording and units; no Textual)."""

from __future__ import annotations

import stat

from layerscope.model import EntryKind, FileEntry
from layerscope.render.text import instruction, percent, size

__all__ = [
    "instruction",
    "percent",
    "size",
    "short_size",
    "short_signed",
    "mode_text",
    "owner_text",
    "elide_path",
]

_TYPE_BITS = {
    EntryKind.DIR: stat.S_IFDIR,
    EntryKind.SYMLINK: stat.S_IFLNK,
    EntryKind.CHAR: stat.S_IFCHR,
    EntryKind.BLOCK: stat.S_IFBLK,
    EntryKind.FIFO: stat.S_IFIFO,
}


def short_size(value: int | None) -> str:
    """Bytes in at most 8 characters (``30 B``, ``1.2 MB``); a dash when unknown."""
    text = size(value)
    return text.replace(" Bytes", " B").replace(" Byte", " B")


def short_signed(value: int | None) -> str:
    """A byte delta in at most 9 characters with its sign (``+1.2 MB``, ``-30 B``, ``0 B``)."""
    if value is None:
        return "-"
    if value == 0:
        return "0 B"
    return ("+" if value > 0 else "-") + short_size(abs(value))


def mode_text(entry: FileEntry | None) -> str:
    """``drwxr-xr-x``-style mode; blanks when the entry is unknown."""
    if entry is None:
        return " " * 10
    return stat.filemode(_TYPE_BITS.get(entry.kind, stat.S_IFREG) | (entry.mode & 0o7777))


def owner_text(entry: FileEntry | None) -> str:
    """``uid:gid``; blank when the entry is unknown."""
    return "" if entry is None else f"{entry.uid}:{entry.gid}"


def elide_path(path: str, width: int) -> str:
    """``path`` in ``width`` characters: whole when it fits, else its start and its file name
    around an ellipsis (``/usr/lib/…/libfoo.so``), so the name a person looks for stays whole;
    a name too long for that keeps its end (``…o.cpython-311.so``)."""
    if len(path) <= width:
        return path
    tail = "/" + path.rsplit("/", 1)[-1]
    head = width - len(tail) - 1
    if head < 2:
        return "…" + path[-(width - 1) :] if width > 1 else "…"
    return path[:head] + "…" + tail
