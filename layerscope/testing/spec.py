"""Declarative description of a test image: entries, layers, images and multi-platform indexes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_CREATED = "2024-01-01T00:00:00Z"

ContentKind = Literal["binary", "text", "zeros"]


@dataclass(frozen=True, slots=True)
class Synthetic:
    """Deterministic generated file content: ``size`` bytes derived from ``seed``.

    ``binary`` is incompressible, ``text`` compresses like prose/source (about 3-4x with gzip),
    ``zeros`` is all zero bytes. Generated in chunks, never held in memory whole.
    """

    size: int
    seed: int | str = 0
    kind: ContentKind = "binary"


Content = bytes | Synthetic


@dataclass(frozen=True, slots=True)
class File:
    """A regular file. ``content`` is literal bytes or a :class:`Synthetic` description."""

    path: str
    content: Content = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int | None = None
    xattrs: Mapping[str, bytes | str] = field(default_factory=dict)
    uname: str = ""
    gname: str = ""

    @property
    def size(self) -> int:
        """Number of content bytes."""
        c = self.content
        return c.size if isinstance(c, Synthetic) else len(c)


@dataclass(frozen=True, slots=True)
class Dir:
    """A directory entry (written as ``path/``)."""

    path: str
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    mtime: int | None = None
    xattrs: Mapping[str, bytes | str] = field(default_factory=dict)
    uname: str = ""
    gname: str = ""


@dataclass(frozen=True, slots=True)
class Symlink:
    """A symbolic link; ``target`` is written verbatim (absolute, relative or dangling)."""

    path: str
    target: str
    mode: int = 0o777
    uid: int = 0
    gid: int = 0
    mtime: int | None = None
    uname: str = ""
    gname: str = ""


@dataclass(frozen=True, slots=True)
class Hardlink:
    """A hard link (type '1', size 0) to ``target``, an archive path of an earlier entry."""

    path: str
    target: str
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int | None = None
    uname: str = ""
    gname: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    """A character (``kind='char'``) or block (``kind='block'``) device node."""

    path: str
    major: int = 0
    minor: int = 0
    kind: Literal["char", "block"] = "char"
    mode: int = 0o666
    uid: int = 0
    gid: int = 0
    mtime: int | None = None


@dataclass(frozen=True, slots=True)
class Fifo:
    """A named pipe."""

    path: str
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int | None = None


@dataclass(frozen=True, slots=True)
class Whiteout:
    """Deletes ``path`` from lower layers: written as the empty file ``dir/.wh.<name>``."""

    path: str
    mode: int = 0
    mtime: int | None = None


@dataclass(frozen=True, slots=True)
class Opaque:
    """Marks directory ``path`` opaque: written as the empty file ``path/.wh..wh..opq``.

    Only the marker is written; add a :class:`Dir` before it for Docker's usual layout.
    """

    path: str
    mode: int = 0
    mtime: int | None = None


@dataclass(frozen=True, slots=True)
class RawMember:
    """Escape hatch: one tar member written exactly as described, no normalisation.

    ``name``/``linkname`` go into the header verbatim (``../x``, ``/etc/x``, non-UTF-8 bytes...).
    ``size`` is the DECLARED size (defaults to ``len(data)``); ``data`` is what is actually
    written, padded to 512 bytes only when ``pad``. ``pax`` adds a PAX 'x' header before the
    member; with ``typeflag`` ``b"x"`` or ``b"g"`` and empty ``data`` the pax records become the
    member body instead.
    """

    name: str | bytes
    data: bytes = b""
    typeflag: bytes = b"0"
    size: int | None = None
    linkname: str | bytes = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = 0
    pax: Mapping[str, str | bytes] | None = None
    pad: bool = True
    devmajor: int = 0
    devminor: int = 0


@dataclass(frozen=True, slots=True)
class RawBytes:
    """Escape hatch: bytes injected verbatim into the layer tar stream (garbage, bad headers)."""

    data: bytes


Entry = File | Dir | Symlink | Hardlink | Device | Fifo | Whiteout | Opaque | RawMember | RawBytes

Compression = Literal["none", "gzip", "zstd"]


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One layer: its tar entries in the given order plus its history entry.

    ``compression`` overrides the write-time default for this layer where the format allows.
    ``terminate=False`` omits the two trailing zero blocks (truncated-archive tests).
    ``name_prefix`` is put before every normalised entry name (e.g. ``"./"``).
    """

    entries: Sequence[Entry] = ()
    created_by: str = ""
    created: str | None = None
    comment: str | None = None
    author: str | None = None
    mtime: int | None = None
    compression: Compression | None = None
    terminate: bool = True
    name_prefix: str = ""


@dataclass(frozen=True, slots=True)
class EmptyHistory:
    """A history entry with ``empty_layer: true`` (ENV, CMD, ...), placed after layer ``after``.

    ``after=-1`` puts it before the first layer; several entries with the same ``after`` keep
    their given order.
    """

    created_by: str
    after: int = -1
    created: str | None = None
    comment: str | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """A single-platform image.

    ``config`` is the container config (Env, Cmd, Entrypoint, Labels, WorkingDir, User,
    ExposedPorts, Volumes...), written in the given key order. ``config_extra`` is merged into
    the top level of the config JSON last (it can override or corrupt anything, e.g.
    ``rootfs``). ``history_override`` replaces the generated history list verbatim
    (``[]`` writes an empty list; use ``config_extra`` tricks to drop it). ``ref_name`` is the
    OCI ``org.opencontainers.image.ref.name`` (default: the first repo tag, verbatim).
    ``mtime`` is the default entry mtime for all layers.
    """

    layers: Sequence[LayerSpec] = ()
    history_extra: Sequence[EmptyHistory] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    repo_tags: Sequence[str] = ()
    architecture: str = "amd64"
    os: str = "linux"
    variant: str | None = None
    created: str = DEFAULT_CREATED
    author: str | None = None
    mtime: int = 0
    ref_name: str | None = None
    config_extra: Mapping[str, Any] = field(default_factory=dict)
    history_override: Sequence[Mapping[str, Any]] | None = None
    manifest_annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def platform(self) -> str:
        """``os/arch[/variant]``."""
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A multi-platform image: an image index over ``images`` (one per platform).

    ``absent_platforms`` (``"os/arch[/variant]"``) are listed in the index but their manifests
    and blobs are not written (containerd ``WithSkipMissing``). ``attestations`` adds a BuildKit
    attestation manifest (platform unknown/unknown) per present image. ``depth`` > 1 wraps the
    index in further single-entry indexes (nested indexes). ``ref_name``/``repo_tags`` name the
    whole index (defaults: those of the first image).
    """

    images: Sequence[ImageSpec]
    ref_name: str | None = None
    repo_tags: Sequence[str] | None = None
    absent_platforms: Sequence[str] = ()
    attestations: bool = False
    depth: int = 1
    annotations: Mapping[str, str] = field(default_factory=dict)

    def tags(self) -> tuple[str, ...]:
        """The repo tags that name this index."""
        if self.repo_tags is not None:
            return tuple(self.repo_tags)
        return tuple(self.images[0].repo_tags) if self.images else ()

    def name(self) -> str | None:
        """The OCI ref name of this index."""
        if self.ref_name is not None:
            return self.ref_name
        tags = self.tags()
        return tags[0] if tags else None


def image_ref_name(spec: ImageSpec) -> str | None:
    """The OCI ref name of a single image."""
    if spec.ref_name is not None:
        return spec.ref_name
    return spec.repo_tags[0] if spec.repo_tags else None


def add_parent_dirs(entries: Sequence[Entry], mode: int = 0o755) -> list[Entry]:
    """Return ``entries`` with a :class:`Dir` inserted before each first-seen missing parent."""
    seen: set[str] = set()
    out: list[Entry] = []
    for e in entries:
        path = getattr(e, "path", None)
        if isinstance(path, str) and not isinstance(e, RawMember):
            parts = path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                parent = "/".join(parts[:i])
                if parent not in seen:
                    seen.add(parent)
                    out.append(Dir("/" + parent, mode=mode))
            if isinstance(e, Dir):
                seen.add(path.strip("/"))
        out.append(e)
    return out
