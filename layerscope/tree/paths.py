"""Path safety of tar member names and link targets (pure: no I/O)."""

from __future__ import annotations

import posixpath

from layerscope.errors import LayerFormatError, UnsafePathError
from layerscope.model import EntryKind

ROOT = "/"

# Path safety


def normalize_member_path(name: str) -> str:
    """Turn a tar member name into an absolute normalised path (``./etc/`` -> ``/etc``).

    A leading ``/`` is read as relative to the image root, as Docker's and containerd's
    appliers do (they join the name under the root; kaniko writes such names). Raises
    UnsafePathError for names that climb out of the root with ``..``.
    """
    if not name:
        raise LayerFormatError("tar member with an empty name")
    normal = posixpath.normpath(name.lstrip("/") or ".")
    if normal == ".." or normal.startswith("../"):
        raise UnsafePathError(f"tar member {name!r} escapes the image root")
    return ROOT if normal == "." else "/" + normal


def check_link_target(path: str, target: str, kind: EntryKind) -> str:
    """Validate a link target; return what ``FileEntry.link_target`` should hold.

    Hardlink targets are archive paths: returned as a normalised absolute path (a leading ``/``
    is tolerated, as go-archive joins it under the root); ``..`` escapes are rejected.
    Symlink targets are returned verbatim: absolute ones are fine; relative ones that climb
    above ``/`` when resolved from the link's directory are rejected.
    """
    if kind is EntryKind.HARDLINK:
        stripped = target.lstrip("/")
        if not stripped:
            raise UnsafePathError(f"hardlink {path!r} points at the image root")
        try:
            return normalize_member_path(stripped)
        except UnsafePathError:
            raise UnsafePathError(
                f"hardlink {path!r} -> {target!r} escapes the image root"
            ) from None
    if kind is EntryKind.SYMLINK:
        if target.startswith("/"):
            return target
        depth = [part for part in parent_path(path).split("/") if part]
        for part in target.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not depth:
                    raise UnsafePathError(f"symlink {path!r} -> {target!r} escapes the image root")
                depth.pop()
            else:
                depth.append(part)
        return target
    raise ValueError(f"check_link_target: {kind} is not a link kind")


def parent_path(path: str) -> str:
    """The parent of a normalised absolute path (``/`` for top-level paths and the root)."""
    return path[: path.rfind("/")] or ROOT
