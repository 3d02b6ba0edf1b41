"""Package databases read from file contents: dpkg, apk, Python distributions and npm.

Parsers take the bytes of one database file and return what it declares. ``PACKAGE_DATABASES``
names the files whose bytes a layer scan must keep for them (small files only): the one
definition of those paths; sources hand it to the layer walker. Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from dataclasses import dataclass

from layerscope.model import KeptFiles

__all__ = [
    "MAX_CONTENT_BYTES",
    "PACKAGE_DATABASES",
    "DPKG_STATUS",
    "APK_INSTALLED",
    "DeclaredPackage",
    "wants_contents",
    "parse_dpkg_status",
    "parse_dpkg_list",
    "parse_apk_installed",
    "parse_python_metadata",
    "parse_python_record",
    "parse_egg_installed_files",
    "parse_package_json",
    "npm_package_dir",
]

MAX_CONTENT_BYTES = 1 << 20
"""Database files larger than this are not kept, whatever their path."""

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_INFO = "/var/lib/dpkg/info/"
APK_INSTALLED = "/lib/apk/db/installed"
APT_EXTENDED_STATES = "/var/lib/apt/extended_states"

_SUFFIXES = (
    "/status",
    "/installed",
    ".list",
    "/METADATA",
    "/RECORD",
    "/PKG-INFO",
    "/installed-files.txt",
    ".egg-info",
    "/package.json",
    "/extended_states",
)
"""Every database path ends with one of these (the walker's cheap first test)."""


@dataclass(frozen=True, slots=True)
class DeclaredPackage:
    """One installed package as a database file declares it."""

    name: str
    version: str
    architecture: str = ""
    installed_size_bytes: int | None = None
    """The size the database states (dpkg Installed-Size in KiB x 1024, apk I:), if any."""
    files: tuple[str, ...] = ()
    """Absolute paths the database says the package owns (apk); empty when not listed there."""


def wants_contents(path: str) -> bool:
    """True for the package-database files whose bytes the package analysis reads.

    ``/var/lib/dpkg/status``, ``/var/lib/dpkg/info/*.list``, ``/lib/apk/db/installed``,
    ``/var/lib/apt/extended_states``, ``*.dist-info/{METADATA,RECORD}``,
    ``*.egg-info/{PKG-INFO,installed-files.txt}``, an
    ``*.egg-info`` file under ``*-packages/``, and ``node_modules/[@scope/]name/package.json``.
    """
    if not path.endswith(_SUFFIXES):
        return False
    if path in (DPKG_STATUS, APK_INSTALLED, APT_EXTENDED_STATES):
        return True
    parent, _, base = path.rpartition("/")
    if base.endswith(".list"):
        return parent + "/" == DPKG_INFO
    if base in ("METADATA", "RECORD"):
        return parent.endswith(".dist-info")
    if base in ("PKG-INFO", "installed-files.txt"):
        return parent.endswith(".egg-info")
    if base.endswith(".egg-info"):
        return "-packages/" in path
    if base == "package.json":
        parts = parent.split("/")
        if len(parts) >= 3 and parts[-2] == "node_modules":
            return not parts[-1].startswith((".", "@"))
        return len(parts) >= 4 and parts[-3] == "node_modules" and parts[-2].startswith("@")
    return False


PACKAGE_DATABASES = KeptFiles(_SUFFIXES, MAX_CONTENT_BYTES, wants_contents)
"""The files a layer scan keeps for this module's parsers (``Layer.contents``)."""


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _paragraphs(text: str) -> list[list[str]]:
    """Blank-line separated stanzas of lines (continuation lines kept as they are)."""
    out: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None and text.strip() else None
    except ValueError:
        return None


def parse_dpkg_status(data: bytes) -> tuple[DeclaredPackage, ...]:
    """Installed packages of a dpkg ``status`` file (``Status: ... installed`` only)."""
    out: list[DeclaredPackage] = []
    for stanza in _paragraphs(_text(data)):
        fields: dict[str, str] = {}
        for line in stanza:
            if line[0] in " \t":
                continue  # continuation of a multi-line field (Description, Conffiles)
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        status = fields.get("status", "").split()
        if not fields.get("package") or not status or status[-1] != "installed":
            continue
        kib = _int(fields.get("installed-size"))
        out.append(
            DeclaredPackage(
                fields["package"],
                fields.get("version", ""),
                fields.get("architecture", ""),
                kib * 1024 if kib is not None else None,
            )
        )
    return tuple(out)


def parse_dpkg_list(data: bytes) -> tuple[str, ...]:
    """Paths of a ``/var/lib/dpkg/info/<pkg>.list`` file (directories included)."""
    return tuple(
        posixpath.normpath(line.strip()) for line in _text(data).splitlines() if line.strip()
    )


def parse_apk_installed(data: bytes) -> tuple[DeclaredPackage, ...]:
    """Packages of an Alpine ``/lib/apk/db/installed`` database, with the files they own."""
    out: list[DeclaredPackage] = []
    for stanza in _paragraphs(_text(data)):
        name = version = arch = ""
        size: int | None = None
        directory = ""
        files: list[str] = []
        for line in stanza:
            key, sep, value = line.partition(":")
            if not sep or len(key) != 1:
                continue
            if key == "P":
                name = value
            elif key == "V":
                version = value
            elif key == "A":
                arch = value
            elif key == "I":
                size = _int(value)
            elif key == "F":
                directory = value.strip("/")
            elif key == "R":
                files.append("/" + posixpath.join(directory, value) if directory else "/" + value)
        if name:
            out.append(DeclaredPackage(name, version, arch, size, tuple(files)))
    return tuple(out)


def _headers(data: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in _text(data).splitlines():
        if not line.strip():
            break  # the body (long description) starts after the first blank line
        if line[0] in " \t":
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def parse_python_metadata(data: bytes) -> DeclaredPackage | None:
    """Name and version of a ``METADATA`` / ``PKG-INFO`` file (None without a Name)."""
    fields = _headers(data)
    name = fields.get("name", "")
    if not name:
        return None
    return DeclaredPackage(name, fields.get("version", ""))


def parse_python_record(data: bytes, site_dir: str) -> tuple[tuple[str, int | None], ...]:
    """(absolute path, size or None) for each row of a ``RECORD`` file under ``site_dir``."""
    out: list[tuple[str, int | None]] = []
    for row in csv.reader(io.StringIO(_text(data))):
        if not row or not row[0]:
            continue
        rel = row[0]
        path = rel if rel.startswith("/") else posixpath.join(site_dir, rel)
        out.append((posixpath.normpath(path), _int(row[2]) if len(row) > 2 else None))
    return tuple(out)


def parse_egg_installed_files(data: bytes, egg_dir: str) -> tuple[str, ...]:
    """Absolute paths listed by an egg-info ``installed-files.txt`` (relative to ``egg_dir``)."""
    return tuple(
        posixpath.normpath(posixpath.join(egg_dir, line.strip()))
        for line in _text(data).splitlines()
        if line.strip()
    )


def parse_package_json(data: bytes) -> DeclaredPackage | None:
    """Name and version of an npm ``package.json`` (None when it is not a JSON object)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not name:
        return None
    return DeclaredPackage(name, version if isinstance(version, str) else "")


def npm_package_dir(path: str) -> str | None:
    """The innermost ``.../node_modules/[@scope/]name`` directory holding ``path``, if any."""
    at = path.rfind("/node_modules/")
    if at < 0:
        return None
    rest = path[at + len("/node_modules/") :].split("/")
    take = 2 if rest[0].startswith("@") else 1
    if len(rest) <= take:
        return None  # the package directory itself, or a bare scope directory
    return path[: at + len("/node_modules/")] + "/".join(rest[:take])
