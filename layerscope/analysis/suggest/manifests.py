"""Dependency manifests: which files an install step reads from the copied sources, and whether
it needs the sources themselves (an editable or local install)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MANIFEST = re.compile(
    r"^(requirements[\w.-]*\.txt|constraints[\w.-]*\.txt|pyproject\.toml|poetry\.lock|uv\.lock|"
    r"pdm\.lock|Pipfile|Pipfile\.lock|setup\.py|setup\.cfg|package\.json|package-lock\.json|"
    r"npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|\.npmrc|\.yarnrc\.yml|go\.mod|go\.sum|"
    r"Cargo\.toml|Cargo\.lock|Gemfile|Gemfile\.lock|composer\.json|composer\.lock|pom\.xml)$"
)
COMPANIONS = {
    "pyproject.toml": ("poetry.lock", "uv.lock", "pdm.lock"),
    "Pipfile": ("Pipfile.lock",),
    "package.json": (
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", ".npmrc",
        ".yarnrc.yml",
    ),
    "go.mod": ("go.sum",),
    "Cargo.toml": ("Cargo.lock",),
    "Gemfile": ("Gemfile.lock",),
    "composer.json": ("composer.lock",),
}  # fmt: skip
"""A manifest and the lock files that travel with it (copied together when present)."""


@dataclass(frozen=True, slots=True)
class Tool:
    """An install command that reads manifests from its working directory."""

    pattern: re.Pattern[str]
    reads: tuple[str, ...]
    needs_sources: re.Pattern[str] | None = None
    """When this also matches, the install builds the project itself: it needs the sources."""


TOOLS = (
    Tool(re.compile(r"\bnpm\s+(ci|install|i)\b(?!\s+[\w@])"), ("package.json",)),
    Tool(re.compile(r"\byarn(\s+install)?\s*($|&&|;|\s--)"), ("package.json",)),
    Tool(re.compile(r"\bpnpm\s+(install|i)\b"), ("package.json",)),
    Tool(re.compile(r"\bgo\s+mod\s+download\b"), ("go.mod",)),
    Tool(re.compile(r"\bcargo\s+fetch\b"), ("Cargo.toml",)),
    Tool(re.compile(r"\bbundle(\s+install)?\b"), ("Gemfile",)),
    Tool(re.compile(r"\bcomposer\s+install\b"), ("composer.json",)),
    Tool(
        re.compile(r"\bpoetry\s+install\b"),
        ("pyproject.toml",),
        re.compile(r"\bpoetry\s+install\b(?!.*--no-root)"),
    ),
    Tool(
        re.compile(r"\buv\s+sync\b"),
        ("pyproject.toml",),
        re.compile(r"\buv\s+sync\b(?!.*--no-install-project)"),
    ),
    Tool(
        re.compile(r"\bpdm\s+(install|sync)\b"),
        ("pyproject.toml",),
        re.compile(r"\bpdm\s+(install|sync)\b(?!.*--no-self)"),
    ),
    Tool(re.compile(r"\bpipenv\s+(install|sync)\b"), ("Pipfile",)),
)
LOCAL_INSTALL = re.compile(r"\bpip3?\s+install\b[^&;|]*(\s-e\s+|\s--editable\s+|\s)\.(/|\s|$)")
"""``pip install .`` / ``pip install -e .``: builds the project from its sources."""


def is_manifest(name: str) -> bool:
    """True for a dependency manifest or lock file name (a top-level name of the copy)."""
    return bool(_MANIFEST.match(name))


@dataclass(frozen=True, slots=True)
class ManifestUse:
    """What an install command reads from the copied directory."""

    manifests: frozenset[str]
    needs_sources: bool
    """True when the install builds the project itself (editable or local install)."""


def implied_reads(command: str, available: frozenset[str] | set[str]) -> ManifestUse:
    """Manifests a command reads without naming them (``npm ci`` reads package.json and its
    lock), among the ``available`` top-level names of the copied directory."""
    found: set[str] = set()
    sources = bool(LOCAL_INSTALL.search(command))
    for tool in TOOLS:
        if tool.pattern.search(command):
            found.update(n for n in tool.reads if n in available)
            if tool.needs_sources is not None and tool.needs_sources.search(command):
                sources = True
    return ManifestUse(frozenset(with_companions(found, available)), sources)


def with_companions(
    names: set[str] | frozenset[str], available: frozenset[str] | set[str]
) -> set[str]:
    """``names`` plus the lock files of each manifest that the copy holds."""
    out = set(names)
    for name in names:
        out.update(c for c in COMPANIONS.get(name, ()) if c in available)
    return out
