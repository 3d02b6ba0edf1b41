"""Frozen data types shared by every layer of layerscope (stdlib only, no I/O)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, NewType, Protocol

Digest = NewType("Digest", str)
"""An ``algorithm:hex`` content digest, e.g. ``sha256:5f70bf18...``."""

EMPTY_TAR_DIFF_ID = Digest(
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
)
"""diff_id of the 1024-zero-byte tar Docker writes for a layer with no changes."""


class SourceKind(str):
    """Which source reads an image: the kind a source is registered under (``sources/``).

    An open set, so that a new source is one module: it names its own kind
    (``SourceKind("podman")``). The constants are the kinds of the built-in sources, and BARE,
    the grammar's bare ``NAME[:TAG]`` (the Docker engine if it has the image, else the registry).
    """

    __slots__ = ()

    DAEMON: ClassVar[SourceKind]
    REGISTRY: ClassVar[SourceKind]
    ARCHIVE: ClassVar[SourceKind]
    OCI_LAYOUT: ClassVar[SourceKind]
    OCI_ARCHIVE: ClassVar[SourceKind]
    BARE: ClassVar[SourceKind]


SourceKind.DAEMON = SourceKind("daemon")
SourceKind.REGISTRY = SourceKind("registry")
SourceKind.ARCHIVE = SourceKind("docker-archive")
SourceKind.OCI_LAYOUT = SourceKind("oci")
SourceKind.OCI_ARCHIVE = SourceKind("oci-archive")
SourceKind.BARE = SourceKind("bare")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference (see design.md, "Image references")."""

    kind: SourceKind
    location: str
    """Archive/layout path, or the normalised image name for daemon/registry."""
    selector: str | None = None
    """Picks one image in a multi-image archive or layout (tag, ref.name or ``@N``)."""
    original: str = ""
    """The text the user typed."""

    def __str__(self) -> str:
        return self.original or self.location


class EntryKind(Enum):
    """Kind of a tar entry after overlay interpretation."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"
    WHITEOUT = "whiteout"
    """``.wh.NAME``: ``path`` is the deleted target, not the marker file."""
    OPAQUE = "opaque"
    """``.wh..wh..opq``: ``path`` is the directory whose lower children are hidden."""

    # Enum's __hash__ is Python code (hash of the name); members are singletons compared by
    # identity, so the C identity hash is equivalent and sets of 100k kinds build 5x faster.
    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One entry of a layer tar. Paths are absolute and normalised (``/etc/passwd``)."""

    path: str
    kind: EntryKind
    size_bytes: int
    """Declared content size; 0 for everything but regular files (hardlinks are 0)."""
    mode: int
    """Permission bits including setuid/setgid/sticky (``0o7777`` mask)."""
    uid: int
    gid: int
    mtime: float
    link_target: str | None = None
    """Symlink target verbatim, or the normalised absolute path a hardlink points at."""
    content_hash: str | None = None
    """xxh3-64 hex of the contents of a regular file; None for everything else."""
    xattrs: tuple[tuple[str, str], ...] = ()
    """Extended attributes (``SCHILY.xattr.*``), sorted, values hex-encoded."""
    device: tuple[int, int] | None = None
    """(major, minor) for character and block devices."""
    body_hash: str | None = None
    """For a ``.pyc`` file of at least 16 bytes: xxh3-64 hex of its bytes after the 16-byte
    header (which embeds the source's mtime and size); None for every other entry."""

    @property
    def is_dir(self) -> bool:
        return self.kind is EntryKind.DIR

    @property
    def is_marker(self) -> bool:
        """True for whiteouts and opaque markers, which are not files of the image."""
        return self.kind is EntryKind.WHITEOUT or self.kind is EntryKind.OPAQUE

    def same_content(self, other: FileEntry) -> bool:
        """Same kind, size, content hash and link target."""
        return (
            self.kind is other.kind
            and self.size_bytes == other.size_bytes
            and self.content_hash == other.content_hash
            and self.link_target == other.link_target
            and self.device == other.device
        )

    def only_header_differs(self, other: FileEntry) -> bool:
        """Two ``.pyc`` files whose bytes differ only in the header (build noise: the source
        file's timestamp and size), not in the compiled code."""
        return (
            self.body_hash is not None
            and self.body_hash == other.body_hash
            and self.kind is other.kind
            and self.size_bytes == other.size_bytes
        )

    def same_metadata(self, other: FileEntry) -> bool:
        """Same mode, owner and xattrs (mtime not included)."""
        return (
            self.mode == other.mode
            and self.uid == other.uid
            and self.gid == other.gid
            and self.xattrs == other.xattrs
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One ``history`` item of the image config, oldest first."""

    created_by: str = ""
    created: str | None = None
    """RFC 3339 timestamp as written in the config."""
    empty_layer: bool = False
    comment: str = ""
    author: str = ""


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer tar of an image, with the entries it holds."""

    index: int
    diff_id: Digest
    """sha256 of the uncompressed tar."""
    digest: Digest | None
    """sha256 of the blob as stored (compressed or not); None when not known."""
    media_type: str | None
    compressed_size_bytes: int | None
    """Size of the stored blob."""
    size_bytes: int
    """Sum of the sizes of the regular files the tar holds (as ``docker history`` and dive)."""
    tar_size_bytes: int
    """Length of the uncompressed tar stream."""
    history: HistoryEntry | None
    entries: tuple[FileEntry, ...]
    compression: str = "none"
    """What the blob was sniffed as: none, gzip, zstd, bzip2 or xz."""
    contents: tuple[tuple[str, bytes], ...] = ()
    """(path, bytes) of the small files the scan's ``KeptFiles`` selects (package databases),
    by path."""
    gzip_estimate_bytes: int | None = None
    """A blob stored uncompressed: its size as gzip level 6 (what ``docker push`` sends),
    estimated from a sample (``layers.gzip_estimate``); None for a compressed blob."""

    @property
    def pushed_blob_bytes(self) -> int | None:
        """The stored blob's size when it is what a push sends (a compressed blob); None for a
        blob stored uncompressed (docker save, an engine export), which a push gzips first."""
        return self.compressed_size_bytes if self.compression != "none" else None

    @property
    def created_by(self) -> str:
        return self.history.created_by if self.history else ""

    @property
    def is_empty(self) -> bool:
        return self.diff_id == EMPTY_TAR_DIFF_ID or not self.entries


@dataclass(frozen=True, slots=True)
class Platform:
    """An ``os/arch[/variant]`` triple."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The parts of the image config a person reads (``config`` in the config JSON)."""

    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    user: str = ""
    workdir: str = ""
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    stop_signal: str = ""

    @property
    def label_map(self) -> Mapping[str, str]:
        return dict(self.labels)


@dataclass(frozen=True, slots=True)
class Image:
    """A loaded image: every source returns this (see design.md, "Every source returns...")."""

    ref: str
    """The reference it was loaded from, as the user wrote it."""
    image_id: Digest
    """sha256 of the config JSON bytes."""
    platform: Platform
    created: str | None
    config: ImageConfig
    history: tuple[HistoryEntry, ...]
    layers: tuple[Layer, ...]
    repo_tags: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    source: SourceKind = SourceKind("")
    """The kind of the source that read it (``docker-archive``, ``oci``, ``registry``, ...)."""
    manifest_digest: Digest | None = None

    @property
    def diff_ids(self) -> tuple[Digest, ...]:
        return tuple(layer.diff_id for layer in self.layers)

    @property
    def chain_ids(self) -> tuple[Digest, ...]:
        return chain_ids(self.diff_ids)

    @property
    def size_bytes(self) -> int:
        return sum(layer.size_bytes for layer in self.layers)

    @property
    def compressed_size_bytes(self) -> int | None:
        sizes = [layer.compressed_size_bytes for layer in self.layers]
        if any(size is None for size in sizes):
            return None
        return sum(size for size in sizes if size is not None)


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """One layer of a recorded build."""

    index: int
    diff_id: Digest
    chain_id: Digest
    size_bytes: int
    compressed_size_bytes: int | None
    created_by: str
    """The history ``created_by`` of the layer ("" when the history does not line up)."""
    instruction: str
    """The Dockerfile instruction as a person writes it (from ``created_by``)."""
    history_created: str | None = None
    is_base: bool | None = None
    """True for a base-image layer, None when the image does not say."""
    log_cached: bool | None = None
    """The builder's own cache flag for this layer's step (from a build log)."""
    log_duration_seconds: float | None = None
    gzip_estimate_bytes: int | None = None
    """Stored uncompressed (``compressed_size_bytes`` None): its estimated gzip size."""


@dataclass(frozen=True, slots=True)
class BuildRecord:
    """One recorded build (image) of a repository."""

    repository: str
    tag: str | None
    image_id: Digest
    created: str | None
    ref: str
    layers: tuple[LayerRecord, ...]
    recorded_at: float = 0.0

    @property
    def size_bytes(self) -> int:
        return sum(layer.size_bytes for layer in self.layers)

    @property
    def compressed_size_bytes(self) -> int | None:
        sizes = [layer.compressed_size_bytes for layer in self.layers]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)

    @property
    def layer_count(self) -> int:
        return len(self.layers)

    @property
    def has_build_log(self) -> bool:
        return any(
            layer.log_cached is not None or layer.log_duration_seconds is not None
            for layer in self.layers
        )


def chain_ids(diff_ids: tuple[Digest, ...] | list[Digest]) -> tuple[Digest, ...]:
    """ChainIDs per the OCI image spec: each layer's id depends on every layer below it."""
    out: list[Digest] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            text = f"{out[-1]} {diff_id}".encode()
            out.append(Digest("sha256:" + hashlib.sha256(text).hexdigest()))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class LayerContents:
    """What reading a layer tar yields, independent of how its blob was stored."""

    entries: tuple[FileEntry, ...]
    size_bytes: int
    tar_size_bytes: int
    contents: tuple[tuple[str, bytes], ...] = ()
    """(path, bytes) of the files the scan's ``KeptFiles`` selects, sorted by path."""
    gzip_estimate_bytes: int | None = None
    """The blob was stored uncompressed: its estimated gzip size (``Layer``)."""


@dataclass(frozen=True, slots=True)
class KeptFiles:
    """Which files a layer scan keeps the bytes of (``Layer.contents``). The caller says
    (``analysis.packages.PACKAGE_DATABASES``: the package databases it reads); the walker obeys.

    A path is kept when its file is at most ``max_bytes`` long, its path ends with one of
    ``suffixes`` (the walker's cheap first test, compiled walker included) and ``wants`` says yes.
    """

    suffixes: tuple[str, ...]
    max_bytes: int
    wants: Callable[[str], bool]


class LayerIndex(Protocol):
    """A cache of layer contents keyed by diff_id (the store implements it; sources consult it)."""

    def get(self, diff_id: Digest) -> LayerContents | None:
        """The cached contents of the layer with this diff_id, if any."""

    def put(
        self, diff_id: Digest, contents: LayerContents, *, digest: Digest | None = None
    ) -> None:
        """Remember a layer's contents (``digest`` = its stored blob, when known)."""

    def forget(self, diff_id: Digest) -> None:
        """Drop what is cached under this key (nothing when there is nothing)."""


class Progress(Protocol):
    """Receives progress from long operations; the CLI and TUI adapt it to their displays."""

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        """A new step starts (e.g. reading layer 3 of 12)."""

    def advance(self, done_bytes: int) -> None:
        """Bytes processed since the last call within the current stage."""


class NullProgress:
    """A Progress that ignores everything."""

    def stage(self, text: str, total_bytes: int | None = None) -> None:
        return None

    def advance(self, done_bytes: int) -> None:
        return None


NULL_PROGRESS = NullProgress()

ProgressFactory = Callable[[], Progress]

__all__ = [
    "Digest",
    "EMPTY_TAR_DIFF_ID",
    "SourceKind",
    "ImageRef",
    "EntryKind",
    "FileEntry",
    "HistoryEntry",
    "Layer",
    "Platform",
    "ImageConfig",
    "Image",
    "chain_ids",
    "BuildRecord",
    "LayerRecord",
    "LayerContents",
    "KeptFiles",
    "LayerIndex",
    "Progress",
    "NullProgress",
    "NULL_PROGRESS",
]
