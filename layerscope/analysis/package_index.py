"""Installed packages of an image, each with the layer that brought it and the bytes it owns.

Reads the package databases a layer scan kept (``Layer.contents``: path -> bytes of small
database files, see ``packages.wants_contents``) layer by layer, following overlay rules for the
few files involved, then measures each package in the final file system:

- dpkg: the regular files of ``/var/lib/dpkg/info/<pkg>[:<arch>].list``, else Installed-Size;
- apk: the files of its ``R:`` lines, else ``I:``;
- Python: the files of the distribution's ``RECORD`` (``installed-files.txt`` for egg-info);
- npm: the regular files under its package directory, nested ``node_modules`` excluded.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from layerscope.analysis.packages import (
    APK_INSTALLED,
    DPKG_INFO,
    DPKG_STATUS,
    DeclaredPackage,
    npm_package_dir,
    parse_apk_installed,
    parse_dpkg_list,
    parse_dpkg_status,
    parse_egg_installed_files,
    parse_package_json,
    parse_python_metadata,
    parse_python_record,
)
from layerscope.model import EntryKind, Image, Layer
from layerscope.tree import FsSnapshot, LayerStack, stack_layers

__all__ = [
    "Package",
    "PackageKey",
    "PackageIndex",
    "PackageChangeKind",
    "PackageChange",
    "layer_contents",
    "find_packages",
    "diff_packages",
]

PackageKey = tuple[str, str, str, str]
"""(ecosystem, name, architecture, location): one installed copy of a package."""


@dataclass(frozen=True, slots=True)
class Package:
    """One package installed in the final file system."""

    ecosystem: str
    """``deb``, ``apk``, ``python`` or ``npm``."""
    name: str
    version: str
    architecture: str
    location: str
    """Where it is installed: the database path (deb, apk), site-packages or node_modules dir."""
    size_bytes: int | None
    size_source: str
    """``files`` (measured in the image), ``declared`` (the database figure) or ``unknown``."""
    layer_index: int
    """The layer that installed this version."""

    @property
    def key(self) -> PackageKey:
        return (self.ecosystem, self.name, self.architecture, self.location)


@dataclass(frozen=True, slots=True)
class PackageIndex:
    """Every package of an image, sorted by ecosystem, name and location."""

    packages: tuple[Package, ...]
    removed_in: tuple[tuple[PackageKey, int], ...] = ()
    """Packages a layer removed (and no later layer reinstalled), with that layer."""

    def by_layer(self) -> dict[int, tuple[Package, ...]]:
        """Layer index -> the packages it installed."""
        out: dict[int, list[Package]] = {}
        for package in self.packages:
            out.setdefault(package.layer_index, []).append(package)
        return {index: tuple(items) for index, items in sorted(out.items())}


def layer_contents(layer: Layer) -> Mapping[str, bytes]:
    """The database file contents a layer scan kept for ``layer`` (empty when none)."""
    raw = getattr(layer, "contents", None)
    return dict(raw) if raw else {}


def _python_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, slots=True)
class _Declared:
    package: DeclaredPackage
    ecosystem: str
    location: str
    source: str
    """The database file that declares it."""


def _declare(path: str, data: bytes) -> list[_Declared]:
    if path == DPKG_STATUS:
        return [_Declared(p, "deb", path, path) for p in parse_dpkg_status(data)]
    if path == APK_INSTALLED:
        return [_Declared(p, "apk", path, path) for p in parse_apk_installed(data)]
    base = posixpath.basename(path)
    parent = posixpath.dirname(path)
    if base == "METADATA" and parent.endswith(".dist-info") or base == "PKG-INFO":
        found = parse_python_metadata(data)
        site = posixpath.dirname(parent)
        return [_Declared(found, "python", site, path)] if found else []
    if base.endswith(".egg-info"):
        found = parse_python_metadata(data)
        return [_Declared(found, "python", parent, path)] if found else []
    if base == "package.json":
        found = parse_package_json(data)
        package_dir = posixpath.dirname(path)
        modules = posixpath.dirname(package_dir)
        if posixpath.basename(modules).startswith("@"):
            modules = posixpath.dirname(modules)
        return [_Declared(found, "npm", modules, path)] if found else []
    return []


def _key(item: _Declared) -> PackageKey:
    name = item.package.name
    if item.ecosystem == "python":
        name = _python_name(name)
    return (item.ecosystem, name, item.package.architecture, item.location)


class _Tracker:
    """Database files visible after each layer, with the layer that wrote each."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, int]] = {}
        self._parsed: dict[tuple[str, int], list[_Declared]] = {}

    def apply(self, index: int, layer: Layer, contents: Mapping[str, bytes]) -> bool:
        changed = False
        if self.files:
            for entry in layer.entries:
                if entry.kind is EntryKind.WHITEOUT or entry.kind is EntryKind.OPAQUE:
                    prefix = entry.path.rstrip("/") + "/"
                    doomed = [
                        p
                        for p, (_, at) in self.files.items()
                        if p.startswith(prefix)
                        or (entry.kind is EntryKind.WHITEOUT and p == entry.path)
                        if at < index
                    ]
                elif entry.path in self.files and entry.path not in contents:
                    doomed = [entry.path]  # replaced by something we did not keep
                else:
                    continue
                for path in doomed:
                    del self.files[path]
                    changed = True
        for path, data in contents.items():
            self.files[path] = (data, index)
            changed = True
        return changed

    def declared(self) -> dict[PackageKey, tuple[_Declared, int]]:
        out: dict[PackageKey, tuple[_Declared, int]] = {}
        for path, (data, at) in sorted(self.files.items()):
            items = self._parsed.get((path, at))
            if items is None:
                items = self._parsed[(path, at)] = _declare(path, data)
            for item in items:
                out[_key(item)] = (item, at)
        return out


def _file_size(final: FsSnapshot, path: str) -> int:
    node = final.get(path)
    if node is None or node.entry.kind is not EntryKind.FILE:
        return 0
    return node.entry.size_bytes


def _sum_files(final: FsSnapshot, paths: Sequence[str]) -> int:
    return sum(_file_size(final, path) for path in set(paths))


def _measure(
    item: _Declared, files: Mapping[str, tuple[bytes, int]], final: FsSnapshot, npm: dict[str, int]
) -> tuple[int | None, str]:
    package = item.package
    if item.ecosystem == "deb":
        for name in (f"{package.name}:{package.architecture}", package.name):
            listed = files.get(f"{DPKG_INFO}{name}.list")
            if listed is not None:
                return _sum_files(final, parse_dpkg_list(listed[0])), "files"
    elif item.ecosystem == "apk":
        if package.files:
            return _sum_files(final, package.files), "files"
    elif item.ecosystem == "python":
        meta_dir = posixpath.dirname(item.source)
        record = files.get(meta_dir + "/RECORD")
        if record is not None:
            rows = parse_python_record(record[0], item.location)
            return _sum_files(final, [path for path, _ in rows]), "files"
        listed = files.get(meta_dir + "/installed-files.txt")
        if listed is not None:
            return _sum_files(final, parse_egg_installed_files(listed[0], meta_dir)), "files"
    elif item.ecosystem == "npm":
        return npm.get(posixpath.dirname(item.source), 0), "files"
    if package.installed_size_bytes is not None:
        return package.installed_size_bytes, "declared"
    return None, "unknown"


def _npm_sizes(final: FsSnapshot) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path, node in final.items():
        if node.entry.kind is EntryKind.FILE and "/node_modules/" in path:
            package_dir = npm_package_dir(path)
            if package_dir is not None:
                sizes[package_dir] = sizes.get(package_dir, 0) + node.entry.size_bytes
    return sizes


def find_packages(
    image: Image,
    *,
    stack: LayerStack | None = None,
    contents: Sequence[Mapping[str, bytes]] | None = None,
) -> PackageIndex:
    """The packages installed in ``image``'s final file system.

    ``contents`` gives each layer's kept database files (default: ``layer_contents`` of each
    layer); ``stack`` reuses a stacked file system already built.
    """
    tracker = _Tracker()
    state: dict[PackageKey, tuple[_Declared, int]] = {}
    removed: dict[PackageKey, int] = {}
    for index, layer in enumerate(image.layers):
        kept = contents[index] if contents is not None else layer_contents(layer)
        if not tracker.apply(index, layer, kept):
            continue
        now = tracker.declared()
        for key, (item, _) in now.items():
            before = state.get(key)
            if before is None or before[0].package.version != item.package.version:
                state[key] = (item, index)
            else:
                state[key] = (item, before[1])
            removed.pop(key, None)
        for key in [key for key in state if key not in now]:
            del state[key]
            removed[key] = index
    if not state:
        return PackageIndex((), tuple(sorted(removed.items())))
    final = (stack or stack_layers(image)).final
    npm = _npm_sizes(final) if any(key[0] == "npm" for key in state) else {}
    packages = []
    for key, (item, layer_index) in state.items():
        size, source = _measure(item, tracker.files, final, npm)
        packages.append(
            Package(
                key[0],
                item.package.name,
                item.package.version,
                item.package.architecture,
                item.location,
                size,
                source,
                layer_index,
            )
        )
    packages.sort(key=lambda p: (p.ecosystem, p.key[1], p.location, p.architecture))
    return PackageIndex(tuple(packages), tuple(sorted(removed.items())))


class PackageChangeKind(Enum):
    """What happened to a package between two images."""

    ADDED = "added"
    REMOVED = "removed"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    CHANGED = "changed"
    """Another version that a plain comparison cannot order."""


@dataclass(frozen=True, slots=True)
class PackageChange:
    """One package added, removed or at another version."""

    kind: PackageChangeKind
    old: Package | None
    new: Package | None

    @property
    def ecosystem(self) -> str:
        return (self.new or self.old).ecosystem  # type: ignore[union-attr]

    @property
    def name(self) -> str:
        return (self.new or self.old).name  # type: ignore[union-attr]

    @property
    def size_delta_bytes(self) -> int | None:
        """New bytes minus old bytes (None when a needed size is unknown)."""
        new = self.new.size_bytes if self.new else 0
        old = self.old.size_bytes if self.old else 0
        return None if new is None or old is None else new - old


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part)
        for part in re.findall(r"\d+|[A-Za-z]+", version)
    )


def diff_packages(old: PackageIndex, new: PackageIndex) -> tuple[PackageChange, ...]:
    """Packages added, removed or at another version, sorted by ecosystem and name."""
    before = {p.key: p for p in old.packages}
    after = {p.key: p for p in new.packages}
    out: list[PackageChange] = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a is None:
            out.append(PackageChange(PackageChangeKind.ADDED, None, b))
        elif b is None:
            out.append(PackageChange(PackageChangeKind.REMOVED, a, None))
        elif a.version != b.version:
            ka, kb = _version_key(a.version), _version_key(b.version)
            kind = (
                PackageChangeKind.UPGRADED
                if kb > ka
                else PackageChangeKind.DOWNGRADED
                if kb < ka
                else PackageChangeKind.CHANGED
            )
            out.append(PackageChange(kind, a, b))
    return tuple(out)
