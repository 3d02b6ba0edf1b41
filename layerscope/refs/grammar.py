"""Image references (design.md, "Image references"): the grammar made of the registered
sources' syntaxes, and the syntaxes of the built-in sources."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from layerscope.errors import BadReferenceError
from layerscope.model import ImageRef, SourceKind

from .names import _parse_name, is_valid_name, normalize_name

_IMAGE_ID_RE = re.compile(r"(?:sha256:)?([a-f0-9]{64})")
# OCI image-layout `org.opencontainers.image.ref.name` grammar (formats.md 2).
_OCI_COMPONENT = r"[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*"
_OCI_REF_NAME_RE = re.compile(rf"{_OCI_COMPONENT}(?:/{_OCI_COMPONENT})*")
_INDEX_SELECTOR_RE = re.compile(r"@[0-9]+")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
_ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2")

# The grammar is made of the syntaxes of the registered sources (``sources/__init__.py``): each
# says its schemes, how the text after them reads, which bare references it takes and its words
# in the help. The built-in ones are declared here (the store reads names out of them too);
# a new source declares its own beside its loader.

Reader = Callable[[str, str, "Path | None"], tuple[str, "str | None"]]
"""Reads the text after a scheme: (body, the reference as typed, cwd) -> (location, selector)."""


class Bare(Enum):
    """The references without a scheme a source takes (design.md, "Image references")."""

    FILE = "file"
    """An existing file: an archive."""
    LAYOUT = "layout"
    """An existing directory that holds an ``oci-layout`` file."""
    IMAGE_ID = "image-id"
    """``sha256:<64 hex>`` or 64 hex digits."""
    NAME = "name"
    """``NAME[:TAG][@DIGEST]``."""


@dataclass(frozen=True, slots=True)
class RefSyntax:
    """How one source's references are written."""

    kind: SourceKind
    schemes: tuple[str, ...]
    """The ``SCHEME://`` words (lowercase; matched case-insensitively)."""
    usage: str
    """Its form in the reference help, e.g. ``registry://HOST/REPO[:TAG|@DIGEST]``."""
    read: Reader
    path: bool = False
    """A file transport: also written ``SCHEME:PATH`` (listed as ``SCHEME:``)."""
    bare: frozenset[Bare] = frozenset()

    def ref(self, body: str, original: str, cwd: Path | None) -> ImageRef:
        location, selector = self.read(body, original, cwd)
        return ImageRef(self.kind, location, selector, original)


PATH_USAGE = "PATH (docker save archive, OCI tar or layout; gzip-compressed too)"
"""The help words for a bare path (the sources that take bare files and layouts read it)."""


class Grammar:
    """The reference grammar of a set of sources, in the order they were registered."""

    def __init__(self, syntaxes: Iterable[RefSyntax]) -> None:
        self.syntaxes = tuple(syntaxes)
        self._schemes: dict[str, RefSyntax] = {}
        self._bare: dict[Bare, RefSyntax] = {}
        for syntax in self.syntaxes:
            for scheme in syntax.schemes:
                self._schemes.setdefault(scheme, syntax)
            for bare in syntax.bare:
                self._bare.setdefault(bare, syntax)

    def supported(self) -> str:
        """The transports, as an error message lists them: schemes first, then file prefixes."""
        named = [f"{sc}://" for s in self.syntaxes if not s.path for sc in s.schemes]
        paths = [f"{sc}:" for s in self.syntaxes if s.path for sc in s.schemes]
        return ", ".join(named + paths)

    def help(self) -> str:
        """The help text of a REF argument."""
        items = [PATH_USAGE] if Bare.FILE in self._bare or Bare.LAYOUT in self._bare else []
        items += [syntax.usage for syntax in self.syntaxes if syntax.schemes]
        named = self._bare.get(Bare.NAME)
        if named is not None:
            items.append(f"or {named.usage}" if items else named.usage)
        return "image reference: " + ", ".join(items)

    def parse(self, text: str, *, cwd: Path | None = None) -> ImageRef:
        """Parse an image reference as the user typed it (design.md, "Image references")."""
        original = text
        text = text.strip()
        if not text:
            raise BadReferenceError("empty image reference")
        scheme_match = _SCHEME_RE.fullmatch(text)
        if scheme_match:
            scheme, body = scheme_match.group(1).lower(), scheme_match.group(2)
            syntax = self._schemes.get(scheme)
            if syntax is None:
                raise BadReferenceError(
                    f"unsupported transport {scheme!r} in {original!r} (use {self.supported()})"
                )
            return syntax.ref(body, original, cwd)
        for syntax in self.syntaxes:
            for scheme in syntax.schemes if syntax.path else ():
                if text.startswith(scheme + ":"):
                    return syntax.ref(text[len(scheme) + 1 :], original, cwd)
        return self._bare_ref(text, original, cwd)

    def _bare_ref(self, text: str, original: str, cwd: Path | None) -> ImageRef:
        found = _split_existing(text, cwd)
        if found is not None:
            path, selector = found
            prefix = text if selector is None else text[: len(text) - len(selector) - 1]
            # A file named like an image (``alpine`` in the cwd) only wins without a ``:TAG``.
            if selector is None or _looks_like_path(prefix) or _is_oci_layout(path):
                claim = _bare_path(path)
                syntax = self._bare.get(claim) if claim is not None else None
                if syntax is not None:
                    return syntax.ref(text, original, cwd)
                # A bare argument that exists on disk is always read as a path (design.md).
                raise BadReferenceError(
                    f"{prefix} is a directory but not an OCI image layout (no oci-layout file)"
                    if claim is None
                    else f"{prefix}: no source reads a bare path (use {self.supported()})"
                )
        by_id = self._bare.get(Bare.IMAGE_ID)
        if by_id is not None and _IMAGE_ID_RE.fullmatch(text):
            return by_id.ref(text, original, cwd)
        if _looks_like_path(text):
            if "/" in text and not text.startswith(("/", "./", "../", "~")):
                try:
                    _parse_name(text)
                except BadReferenceError as exc:
                    raise BadReferenceError(
                        f"no such file: {_missing_path(text)}; not an image name either ({exc})"
                    ) from None
            raise BadReferenceError(f"no such file: {_missing_path(text)}")
        named = self._bare.get(Bare.NAME)
        if named is None:
            raise BadReferenceError(f"{original}: no transport given (use {self.supported()})")
        return named.ref(text, original, cwd)


def _bare_path(path: Path) -> Bare | None:
    if _is_oci_layout(path):
        return Bare.LAYOUT
    return Bare.FILE if path.is_file() else None


def read_engine_name(body: str, original: str, cwd: Path | None) -> tuple[str, str | None]:
    """An engine's image: a normalised name, or a full image ID as ``sha256:<hex>``."""
    image_id = _IMAGE_ID_RE.fullmatch(body)
    if image_id:
        return f"sha256:{image_id.group(1)}", None
    return normalize_name(body), None


def read_registry_name(body: str, original: str, cwd: Path | None) -> tuple[str, str | None]:
    """A registry's image: a normalised name (an image ID names nothing in a registry)."""
    if _IMAGE_ID_RE.fullmatch(body):
        raise BadReferenceError(
            f"{original}: an image ID cannot be pulled from a registry; use name@sha256:..."
        )
    return normalize_name(body), None


def read_name(body: str, original: str, cwd: Path | None) -> tuple[str, str | None]:
    """A normalised image name."""
    return normalize_name(body), None


def read_path(*, layout: bool, names: bool) -> Reader:
    """A file transport's ``PATH[:SELECTOR]``: an OCI layout directory when ``layout``, else an
    archive file; the selector is an image name when ``names`` (docker archives), else an OCI
    ``ref.name``; ``@N`` picks by position in both."""

    def read(body: str, original: str, cwd: Path | None) -> tuple[str, str | None]:
        if not body:
            raise BadReferenceError(f"{original}: missing path")
        found = _split_existing(body, cwd)
        if found is None:
            raise BadReferenceError(f"no such file: {_missing_path(body)}")
        path, selector = found
        _check_path(layout, path, original)
        return str(path), _selector(names, selector, original)

    return read


def _resolve(path_text: str, cwd: Path | None) -> Path:
    path = Path(os.path.expanduser(path_text))
    if cwd is not None and not path.is_absolute():
        path = cwd / path
    return Path(os.path.abspath(path))


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # name too long, NUL byte
        return False


def _split_existing(body: str, cwd: Path | None) -> tuple[Path, str | None] | None:
    """The longest existing path prefix of ``body`` (ending at a colon) and the text after it."""
    if body and _exists(_resolve(body, cwd)):
        return _resolve(body, cwd), None
    end = len(body)
    while (end := body.rfind(":", 0, end)) > 0:
        candidate = _resolve(body[:end], cwd)
        if _exists(candidate):
            return candidate, body[end + 1 :]
    return None


def _missing_path(body: str) -> str:
    """The part of ``body`` to name in a "no such file" message."""
    head = body.split(":", 1)[0]
    return head if head and _looks_like_path(head) else body


def _looks_like_path(text: str) -> bool:
    """True for text no one would mean as an image name (see design.md)."""
    if text in (".", "..") or text.startswith(("/", "./", "../", "~")):
        return True
    head = text.split(":", 1)[0].lower()
    if head.endswith(_ARCHIVE_SUFFIXES) or text.lower().endswith(_ARCHIVE_SUFFIXES):
        return True
    return "/" in text and not is_valid_name(text)


def _is_oci_layout(path: Path) -> bool:
    return path.is_dir() and (path / "oci-layout").is_file()


def _selector(names: bool, selector: str | None, original: str) -> str | None:
    """Validate the part after PATH: a name for docker archives, a ref.name for OCI, or ``@N``."""
    if selector is None:
        return None
    if not selector:
        raise BadReferenceError(f"{original}: empty image name after the path")
    if _INDEX_SELECTOR_RE.fullmatch(selector):
        return selector
    if names:
        parsed = _parse_name(selector)
        if parsed.digest is not None:
            raise BadReferenceError(
                f"{original}: docker-archive picks an image by name and tag, not by digest"
            )
        return str(parsed)
    if not _OCI_REF_NAME_RE.fullmatch(selector):
        raise BadReferenceError(f"{original}: invalid OCI reference name {selector!r}")
    return selector


def _check_path(layout: bool, path: Path, original: str) -> None:
    if layout and not path.is_dir():
        raise BadReferenceError(
            f"{original}: {path} is a file, not an OCI layout directory (use oci-archive:)"
        )
    if not layout and path.is_dir():
        hint = " (use oci:)" if _is_oci_layout(path) else ""
        raise BadReferenceError(f"{original}: {path} is a directory, not an archive{hint}")


DOCKER_ARCHIVE = RefSyntax(
    SourceKind.ARCHIVE,
    ("docker-archive",),
    "docker-archive:PATH[:NAME[:TAG]]",
    read_path(layout=False, names=True),
    path=True,
    bare=frozenset({Bare.FILE}),
)
OCI_LAYOUT = RefSyntax(
    SourceKind.OCI_LAYOUT,
    ("oci",),
    "oci:DIR[:REF]",
    read_path(layout=True, names=False),
    path=True,
    bare=frozenset({Bare.LAYOUT}),
)
OCI_ARCHIVE = RefSyntax(
    SourceKind.OCI_ARCHIVE,
    ("oci-archive",),
    "oci-archive:PATH[:REF]",
    read_path(layout=False, names=False),
    path=True,
)
DAEMON = RefSyntax(
    SourceKind.DAEMON,
    ("daemon", "docker"),
    "docker://NAME[:TAG] or daemon://NAME[:TAG] (the Docker engine)",
    read_engine_name,
    bare=frozenset({Bare.IMAGE_ID}),
)
REGISTRY = RefSyntax(
    SourceKind.REGISTRY, ("registry",), "registry://HOST/REPO[:TAG|@DIGEST]", read_registry_name
)
BARE = RefSyntax(
    SourceKind.BARE,
    (),
    "a bare NAME[:TAG] (the engine if it has the image, else the registry)",
    read_name,
    bare=frozenset({Bare.NAME}),
)
BUILT_IN = Grammar((DOCKER_ARCHIVE, OCI_LAYOUT, OCI_ARCHIVE, DAEMON, REGISTRY, BARE))
"""The grammar of the built-in sources (the store reads names out of these references)."""


def parse_ref(text: str, *, cwd: Path | None = None, grammar: Grammar | None = None) -> ImageRef:
    """Parse an image reference as the user typed it (design.md, "Image references").

    ``grammar`` is the registered sources' (``sources.GRAMMAR``); None: the built-in ones.
    Relative paths are taken relative to ``cwd`` (default: the process's working directory);
    the returned ``location`` of a file source is an absolute path. A full image ID
    (``sha256:<64 hex>`` or 64 hex digits) names an image in the Docker engine (DAEMON).
    """
    return (grammar or BUILT_IN).parse(text, cwd=cwd)
