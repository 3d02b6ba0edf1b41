"""Parse image references (design.md, "Image references") and normalise Docker image names.

Name rules follow distribution/reference ``normalize.go`` / ``regexp.go`` (formats.md 5a):
``busybox`` -> ``docker.io/library/busybox:latest``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from layerscope.errors import BadReferenceError
from layerscope.model import ImageRef, SourceKind

DEFAULT_REGISTRY = "docker.io"
LEGACY_DEFAULT_REGISTRY = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# distribution/reference regexp.go, transcribed.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_REMOTE_NAME_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*", re.ASCII)
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_RE = re.compile(rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?", re.ASCII)
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
_IMAGE_ID_RE = re.compile(r"(?:sha256:)?([a-f0-9]{64})")
# go-digest: registered algorithms and the length of their lowercase hex encoding.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

# OCI image-layout `org.opencontainers.image.ref.name` grammar (formats.md 2).
_OCI_COMPONENT = r"[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*"
_OCI_REF_NAME_RE = re.compile(rf"{_OCI_COMPONENT}(?:/{_OCI_COMPONENT})*")
_INDEX_SELECTOR_RE = re.compile(r"@[0-9]+")

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
_PATH_TRANSPORTS = {
    "docker-archive": SourceKind.ARCHIVE,
    "oci": SourceKind.OCI_LAYOUT,
    "oci-archive": SourceKind.OCI_ARCHIVE,
}
_ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2")
_SUPPORTED = "daemon://, docker://, registry://, docker-archive:, oci:, oci-archive:"


@dataclass(frozen=True, slots=True)
class _Name:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def _split_docker_domain(name: str) -> tuple[str, str]:
    """(registry, remainder) as distribution/reference splitDockerDomain does."""
    slash = name.find("/")
    first = name[:slash]
    if slash == -1 or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_REGISTRY, name
    else:
        domain, remainder = first, name[slash + 1 :]
    if domain == LEGACY_DEFAULT_REGISTRY:
        domain = DEFAULT_REGISTRY
    if domain == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def _check_digest(digest: str, name: str) -> None:
    if not _DIGEST_RE.fullmatch(digest):
        raise BadReferenceError(f"invalid digest {digest!r} in image name {name!r}")
    algorithm, _, encoded = digest.partition(":")
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise BadReferenceError(f"unsupported digest algorithm {algorithm!r} in {name!r}")
    if len(encoded) != expected or not re.fullmatch(r"[a-f0-9]+", encoded):
        raise BadReferenceError(
            f"invalid {algorithm} digest in {name!r}: expected {expected} lowercase hex characters"
        )


def _parse_name(name: str, *, default_tag: bool = True) -> _Name:
    """Parse and normalise NAME[:TAG][@DIGEST]; raises BadReferenceError."""
    if not name:
        raise BadReferenceError("empty image name")
    if _IDENTIFIER_RE.fullmatch(name):
        raise BadReferenceError(
            f"invalid image name {name!r}: a 64-character hex string is an image ID, not a name"
        )
    rest, at, digest_text = name.partition("@")
    digest = digest_text if at else None
    tag: str | None = None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        rest, tag = rest[:colon], rest[colon + 1 :]
    domain, remote = _split_docker_domain(rest)
    if remote.lower() != remote:
        raise BadReferenceError(
            f"invalid image name {name!r}: repository name {remote!r} must be lowercase"
        )
    if not _DOMAIN_RE.fullmatch(domain) or not _REMOTE_NAME_RE.fullmatch(remote):
        raise BadReferenceError(f"invalid image name {name!r}")
    if len(domain) + 1 + len(remote) > NAME_TOTAL_LENGTH_MAX:
        raise BadReferenceError(
            f"invalid image name {name!r}: longer than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    if tag is not None and not _TAG_RE.fullmatch(tag):
        raise BadReferenceError(f"invalid tag {tag!r} in image name {name!r}")
    if digest is not None:
        _check_digest(digest, name)
    if default_tag and tag is None and digest is None:
        tag = DEFAULT_TAG
    return _Name(domain, remote, tag, digest)


def normalize_name(name: str) -> str:
    """The fully qualified form of an image name.

    ``busybox`` -> ``docker.io/library/busybox:latest``. A name with a digest gets no
    default tag; a name with both keeps both.
    """
    return str(_parse_name(name))


def split_name(name: str) -> tuple[str, str, str | None, str | None]:
    """(registry, repository, tag, digest) of the normalised name.

    ``tag`` is None only when a digest is given without a tag.
    """
    parsed = _parse_name(name)
    return parsed.registry, parsed.repository, parsed.tag, parsed.digest


def familiar_name(name: str) -> str:
    """The short form Docker shows: ``docker.io/library/busybox:latest`` -> ``busybox:latest``."""
    parsed = _parse_name(name)
    if parsed.registry != DEFAULT_REGISTRY:
        return str(parsed)
    repository = parsed.repository
    if repository.startswith(OFFICIAL_REPO_PREFIX) and repository.count("/") == 1:
        repository = repository[len(OFFICIAL_REPO_PREFIX) :]
    text = repository
    if parsed.tag is not None:
        text += f":{parsed.tag}"
    if parsed.digest is not None:
        text += f"@{parsed.digest}"
    return text


def same_image_name(a: str, b: str) -> bool:
    """True when both names normalise to the same image; False when either is not a valid name."""
    try:
        return _parse_name(a) == _parse_name(b)
    except BadReferenceError:
        return False


def is_valid_name(name: str) -> bool:
    """True when ``name`` is a valid Docker image reference."""
    try:
        _parse_name(name)
    except BadReferenceError:
        return False
    return True


# --- references ------------------------------------------------------------------------------


def parse_ref(text: str, *, cwd: Path | None = None) -> ImageRef:
    """Parse an image reference as the user typed it (design.md, "Image references").

    Relative paths are taken relative to ``cwd`` (default: the process's working directory);
    the returned ``location`` of a file source is an absolute path. A full image ID
    (``sha256:<64 hex>`` or 64 hex digits) names an image in the Docker engine (DAEMON).
    """
    original = text
    text = text.strip()
    if not text:
        raise BadReferenceError("empty image reference")
    scheme_match = _SCHEME_RE.fullmatch(text)
    if scheme_match:
        scheme, body = scheme_match.group(1).lower(), scheme_match.group(2)
        if scheme in ("daemon", "docker"):
            return _daemon_ref(body, original)
        if scheme == "registry":
            if _IMAGE_ID_RE.fullmatch(body):
                raise BadReferenceError(
                    f"{original}: an image ID cannot be pulled from a registry; use name@sha256:..."
                )
            return ImageRef(SourceKind.REGISTRY, normalize_name(body), None, original)
        if scheme in _PATH_TRANSPORTS:
            return _path_ref(_PATH_TRANSPORTS[scheme], body, original, cwd)
        raise BadReferenceError(
            f"unsupported transport {scheme!r} in {original!r} (use {_SUPPORTED})"
        )
    for prefix, kind in _PATH_TRANSPORTS.items():
        if text.startswith(prefix + ":"):
            return _path_ref(kind, text[len(prefix) + 1 :], original, cwd)
    return _bare_ref(text, original, cwd)


def _daemon_ref(body: str, original: str) -> ImageRef:
    image_id = _IMAGE_ID_RE.fullmatch(body)
    if image_id:
        return ImageRef(SourceKind.DAEMON, f"sha256:{image_id.group(1)}", None, original)
    return ImageRef(SourceKind.DAEMON, normalize_name(body), None, original)


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


def _selector(kind: SourceKind, selector: str | None, original: str) -> str | None:
    """Validate the part after PATH: a name for docker archives, a ref.name for OCI, or ``@N``."""
    if selector is None:
        return None
    if not selector:
        raise BadReferenceError(f"{original}: empty image name after the path")
    if _INDEX_SELECTOR_RE.fullmatch(selector):
        return selector
    if kind is SourceKind.ARCHIVE:
        parsed = _parse_name(selector)
        if parsed.digest is not None:
            raise BadReferenceError(
                f"{original}: docker-archive picks an image by name and tag, not by digest"
            )
        return str(parsed)
    if not _OCI_REF_NAME_RE.fullmatch(selector):
        raise BadReferenceError(f"{original}: invalid OCI reference name {selector!r}")
    return selector


def _check_kind(kind: SourceKind, path: Path, original: str) -> None:
    if kind is SourceKind.OCI_LAYOUT and not path.is_dir():
        raise BadReferenceError(
            f"{original}: {path} is a file, not an OCI layout directory (use oci-archive:)"
        )
    if kind is not SourceKind.OCI_LAYOUT and path.is_dir():
        hint = " (use oci:)" if _is_oci_layout(path) else ""
        raise BadReferenceError(f"{original}: {path} is a directory, not an archive{hint}")


def _path_ref(kind: SourceKind, body: str, original: str, cwd: Path | None) -> ImageRef:
    if not body:
        raise BadReferenceError(f"{original}: missing path")
    found = _split_existing(body, cwd)
    if found is None:
        raise BadReferenceError(f"no such file: {_missing_path(body)}")
    path, selector = found
    _check_kind(kind, path, original)
    return ImageRef(kind, str(path), _selector(kind, selector, original), original)


def _sniff(path: Path) -> SourceKind | None:
    if _is_oci_layout(path):
        return SourceKind.OCI_LAYOUT
    if path.is_file():
        return SourceKind.ARCHIVE
    return None


def _bare_ref(text: str, original: str, cwd: Path | None) -> ImageRef:
    found = _split_existing(text, cwd)
    if found is not None:
        path, selector = found
        prefix = text if selector is None else text[: len(text) - len(selector) - 1]
        # A file named like an image (``alpine`` in the cwd) only wins without a ``:TAG``.
        if selector is None or _looks_like_path(prefix) or _is_oci_layout(path):
            kind = _sniff(path)
            if kind is not None:
                return ImageRef(kind, str(path), _selector(kind, selector, original), original)
            # A bare argument that exists on disk is always read as a path (design.md).
            raise BadReferenceError(
                f"{prefix} is a directory but not an OCI image layout (no oci-layout file)"
            )
    image_id = _IMAGE_ID_RE.fullmatch(text)
    if image_id:
        return ImageRef(SourceKind.DAEMON, f"sha256:{image_id.group(1)}", None, original)
    if _looks_like_path(text):
        if "/" in text and not text.startswith(("/", "./", "../", "~")):
            try:
                _parse_name(text)
            except BadReferenceError as exc:
                raise BadReferenceError(
                    f"no such file: {_missing_path(text)}; not an image name either ({exc})"
                ) from None
        raise BadReferenceError(f"no such file: {_missing_path(text)}")
    return ImageRef(SourceKind.BARE, normalize_name(text), None, original)


__all__ = [
    "DEFAULT_REGISTRY",
    "DEFAULT_TAG",
    "normalize_name",
    "split_name",
    "familiar_name",
    "same_image_name",
    "is_valid_name",
    "parse_ref",
]
