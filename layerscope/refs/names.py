"""Docker image names: parse, validate and normalise them.

Name rules follow distribution/reference ``normalize.go`` / ``regexp.go`` (formats.md 5a):
``busybox`` -> ``docker.io/library/busybox:latest``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from layerscope.errors import BadReferenceError

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
# go-digest: registered algorithms and the length of their lowercase hex encoding.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


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
