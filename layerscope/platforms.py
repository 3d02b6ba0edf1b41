"""Parse, normalise and choose ``os/arch[/variant]`` platforms (formats.md 5f, containerd).

Attestation entries of an index (BuildKit provenance/SBOM manifests) are never chosen:
``select_platform`` always skips candidates whose platform is ``unknown/unknown`` and, given an
``is_attestation`` predicate, every candidate it accepts. Index readers can build that predicate
from :func:`is_attestation_descriptor`.
"""

from __future__ import annotations

import platform as _stdlib_platform
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from layerscope.errors import NotFoundError, UsageError
from layerscope.model import Platform

T = TypeVar("T")

ATTESTATION_REFERENCE_TYPE = "attestation-manifest"
REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"

# go/build syslist (containerd/platforms database.go).
KNOWN_OS = frozenset(
    "aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 "
    "solaris windows zos".split()
)
KNOWN_ARCH = frozenset(
    "386 amd64 amd64p32 arm armbe arm64 arm64be ppc64 ppc64le loong64 mips mipsle mips64 "
    "mips64le mips64p32 mips64p32le ppc riscv riscv64 s390 s390x sparc sparc64 wasm".split()
)
_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_VERSION_RE = re.compile(r"v?([0-9]+)(?:\.([0-9]+))?")

# platform.machine() values -> (architecture, variant).
_MACHINES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "x64": ("amd64", None),
    "aarch64": ("arm64", None),
    "arm64": ("arm64", None),
    "aarch64_be": ("arm64be", None),
    "armv8l": ("arm", "v8"),
    "armv7l": ("arm", "v7"),
    "armv7": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armv5tel": ("arm", "v5"),
    "armv5tejl": ("arm", "v5"),
    "i386": ("386", None),
    "i486": ("386", None),
    "i586": ("386", None),
    "i686": ("386", None),
    "x86": ("386", None),
}


def _normalize_arch(arch: str, variant: str | None) -> tuple[str, str | None]:
    """containerd ``normalizeArch``; an empty variant is returned as None."""
    arch, var = arch.lower(), (variant or "").lower()
    if arch == "i386":
        arch, var = "386", ""
    elif arch in ("x86_64", "x86-64", "amd64"):
        arch = "amd64"
        if var == "v1":
            var = ""
    elif arch in ("aarch64", "arm64"):
        arch = "arm64"
        if var in ("8", "v8", "v8.0"):
            var = ""
    elif arch == "armhf":
        arch, var = "arm", "v7"
    elif arch == "armel":
        arch, var = "arm", "v6"
    elif arch == "arm":
        if var in ("", "7"):
            var = "v7"
        elif var in ("5", "6", "8"):
            var = "v" + var
    return arch, var or None


def _normalize_os(os_name: str) -> str:
    os_name = os_name.lower()
    return "darwin" if os_name == "macos" else os_name


def normalize_platform(platform: Platform) -> Platform:
    """The canonical spelling: ``linux/x86_64`` -> ``linux/amd64``, ``linux/arm`` -> ``arm/v7``."""
    arch, variant = _normalize_arch(platform.architecture, platform.variant)
    return Platform(_normalize_os(platform.os), arch, variant)


def host_platform(machine: str | None = None) -> Platform:
    """The platform images for this machine are built for (os is always ``linux``).

    ``machine`` defaults to :func:`platform.machine`.
    """
    name = (machine if machine is not None else _stdlib_platform.machine()).lower()
    arch, variant = _MACHINES.get(name, (name, None))
    return normalize_platform(Platform("linux", arch, variant))


def parse_platform(text: str, *, host: Platform | None = None) -> Platform:
    """Parse ``os/arch[/variant]`` (or a lone ``os`` or ``arch``) into a normalised Platform.

    A lone OS takes the host's architecture, a lone architecture the OS ``linux``.
    """
    spec = text.strip().lower()
    parts = spec.split("/")
    if not spec or len(parts) > 3 or not all(_TOKEN_RE.fullmatch(part) for part in parts):
        raise UsageError(f"invalid platform {text!r}: expected os/arch[/variant], e.g. linux/arm64")
    if len(parts) == 1:
        (word,) = parts
        if word in KNOWN_OS:
            base = host or host_platform()
            return Platform(_normalize_os(word), base.architecture, base.variant)
        arch, variant = _normalize_arch(word, None)
        if arch in KNOWN_ARCH:
            return Platform("linux", arch, variant)
        raise UsageError(f"invalid platform {text!r}: unknown operating system or architecture")
    variant = parts[2] if len(parts) == 3 else None
    return normalize_platform(Platform(parts[0], parts[1], variant))


def platform_matches(wanted: Platform, candidate: Platform) -> bool:
    """True when both name the same platform once normalised (no fallbacks)."""
    return normalize_platform(wanted) == normalize_platform(candidate)


def _version(variant: str | None) -> tuple[int, int] | None:
    match = _VERSION_RE.fullmatch(variant or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def _arm_vector(os_name: str, variant: str | None) -> list[Platform]:
    version = _version(variant)
    out = [Platform(os_name, "arm", variant)]
    if version is not None and version[0] > 5:
        out += [Platform(os_name, "arm", f"v{v}") for v in range(version[0] - 1, 4, -1)]
    return out


def _arm64_variant(major: int, minor: int) -> str:
    return f"v{major}" if minor == 0 else f"v{major}.{minor}"


def compatible_platforms(wanted: Platform) -> tuple[Platform, ...]:
    """``wanted`` and the platforms that can run on it, best first (containerd ``Only``).

    amd64/vN -> vN-1 ... v1 -> 386; arm/vN -> ... v5; arm64/v9.x -> v9.(x-1) ... v9 -> v8.(x+5)
    ... v8 -> arm/v8 ... v5; arm64/v8.x -> v8.(x-1) ... v8 -> arm/v8 ... v5.
    """
    base = normalize_platform(wanted)
    os_name, arch = base.os, base.architecture
    out: list[Platform] = [base]
    if arch == "amd64":
        version = _version(base.variant)
        if version is not None and version[0] > 1:
            out += [Platform(os_name, arch, f"v{v}") for v in range(version[0] - 1, 0, -1)]
        out.append(Platform(os_name, "386"))
    elif arch == "arm":
        out += _arm_vector(os_name, base.variant)[1:]
    elif arch == "arm64":
        version = _version(base.variant or "v8")
        if version is not None and version[0] >= 8:
            major, minor = version
            if major == 9:
                out += [
                    Platform(os_name, arch, _arm64_variant(9, m)) for m in range(minor - 1, -1, -1)
                ]
                major, minor = 8, minor + 5
                out.append(Platform(os_name, arch, _arm64_variant(8, minor)))
            out += [
                Platform(os_name, arch, _arm64_variant(major, m)) for m in range(minor - 1, -1, -1)
            ]
            out += _arm_vector(os_name, "v8")
    unique: list[Platform] = []
    for item in (normalize_platform(p) for p in out):
        if item not in unique:
            unique.append(item)
    return tuple(unique)


def platform_compatible(wanted: Platform, candidate: Platform) -> bool:
    """True when an image for ``candidate`` runs on ``wanted`` (exact match or a fallback)."""
    return normalize_platform(candidate) in compatible_platforms(wanted)


def is_attestation_platform(platform: Platform | None) -> bool:
    """True for the ``unknown/unknown`` platform BuildKit gives attestation manifests."""
    return platform is not None and platform.os == "unknown" and platform.architecture == "unknown"


def is_attestation_descriptor(platform: Platform | None, annotations: Mapping[str, str]) -> bool:
    """True for an index entry that is an attestation manifest, not an image."""
    return (
        is_attestation_platform(platform)
        or annotations.get(REFERENCE_TYPE_ANNOTATION) == ATTESTATION_REFERENCE_TYPE
    )


def _describe(candidates: Sequence[tuple[Platform | None, object]]) -> str:
    names: list[str] = []
    for platform, _ in candidates:
        name = str(normalize_platform(platform)) if platform is not None else "unspecified"
        if name not in names:
            names.append(name)
    return ", ".join(names) if names else "none"


def _best(
    candidates: Sequence[tuple[Platform | None, T]], wanted: Platform
) -> tuple[Platform | None, T] | None:
    """Exact match first, then fallbacks in order, then a candidate with no platform."""
    normalised = [(normalize_platform(p) if p is not None else None, c) for p, c in candidates]
    for target in compatible_platforms(wanted):
        for index, (platform, _) in enumerate(normalised):
            if platform == target:
                return candidates[index]
    for platform, value in candidates:
        if platform is None:
            return platform, value
    return None


def select_platform_entry(
    candidates: Sequence[tuple[Platform | None, T]],
    wanted: Platform | None,
    *,
    is_attestation: Callable[[T], bool] | None = None,
    host: Platform | None = None,
) -> tuple[Platform | None, T]:
    """Like :func:`select_platform`, also returning the platform of the chosen candidate."""
    usable = [
        (platform, value)
        for platform, value in candidates
        if not is_attestation_platform(platform)
        and not (is_attestation is not None and is_attestation(value))
    ]
    if not usable:
        raise NotFoundError("the image index lists no image manifests")
    if wanted is not None:
        chosen = _best(usable, wanted)
        if chosen is None:
            raise NotFoundError(
                f"no image for platform {normalize_platform(wanted)}; "
                f"the index has: {_describe(usable)}"
            )
        return chosen
    if len(usable) == 1:
        return usable[0]
    target = host if host is not None else host_platform()
    chosen = _best(usable, target)
    if chosen is None:
        raise NotFoundError(
            f"no image for this machine's platform {normalize_platform(target)}; "
            f"choose one with --platform: {_describe(usable)}"
        )
    return chosen


def select_platform(
    candidates: Sequence[tuple[Platform | None, T]],
    wanted: Platform | None,
    *,
    is_attestation: Callable[[T], bool] | None = None,
    host: Platform | None = None,
) -> T:
    """Pick one image of an index (design.md, "Image references").

    With ``wanted``: the first exact (normalised) match, else the best compatible fallback
    (:func:`compatible_platforms`), else a candidate without a platform, else NotFoundError
    listing the platforms present. Without it: the only candidate, else the same choice for the
    host platform (``host``, default :func:`host_platform`), else NotFoundError. Attestation
    entries are skipped first (see the module docstring).
    """
    return select_platform_entry(candidates, wanted, is_attestation=is_attestation, host=host)[1]


__all__ = [
    "KNOWN_OS",
    "KNOWN_ARCH",
    "normalize_platform",
    "host_platform",
    "parse_platform",
    "platform_matches",
    "compatible_platforms",
    "platform_compatible",
    "is_attestation_platform",
    "is_attestation_descriptor",
    "select_platform",
    "select_platform_entry",
]
