"""Image references and Docker image names (design.md, "Image references").

``names``: the name rules of distribution/reference (formats.md 5a). ``grammar``: the reference
grammar, made of the syntaxes of the registered sources (``sources/``), and the syntaxes of the
built-in ones.
"""

from __future__ import annotations

from .grammar import (
    BARE,
    BUILT_IN,
    DAEMON,
    DOCKER_ARCHIVE,
    OCI_ARCHIVE,
    OCI_LAYOUT,
    PATH_USAGE,
    REGISTRY,
    Bare,
    Grammar,
    RefSyntax,
    parse_ref,
    read_engine_name,
    read_name,
    read_path,
    read_registry_name,
)
from .names import (
    DEFAULT_REGISTRY,
    DEFAULT_TAG,
    familiar_name,
    is_valid_name,
    normalize_name,
    same_image_name,
    split_name,
)

__all__ = [
    "BARE",
    "BUILT_IN",
    "DAEMON",
    "DOCKER_ARCHIVE",
    "OCI_ARCHIVE",
    "OCI_LAYOUT",
    "REGISTRY",
    "DEFAULT_REGISTRY",
    "DEFAULT_TAG",
    "PATH_USAGE",
    "Bare",
    "Grammar",
    "RefSyntax",
    "familiar_name",
    "is_valid_name",
    "normalize_name",
    "parse_ref",
    "read_engine_name",
    "read_name",
    "read_path",
    "read_registry_name",
    "same_image_name",
    "split_name",
]
