"""Typed errors, each with a one-line message for a person; only cli maps them to exit codes."""

from __future__ import annotations


class LayerscopeError(Exception):
    """Base class. ``exit_code`` is what ``cli.main`` returns for it."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class UsageError(LayerscopeError):
    """Bad command-line usage or an unparseable reference."""


class BadReferenceError(LayerscopeError):
    """A reference that cannot name an image (bad grammar, missing file)."""


class ImageFormatError(LayerscopeError):
    """An archive, layout or manifest that is not a readable image."""


class LayerFormatError(ImageFormatError):
    """A layer blob that cannot be read: corrupt compression, truncated or bad tar."""


class UnsafePathError(ImageFormatError):
    """A path or link target that escapes the image root."""


class DigestMismatchError(ImageFormatError):
    """A blob whose content does not hash to its declared digest."""


class NotFoundError(LayerscopeError):
    """The image, tag or platform asked for is not in the source."""


class ConfigError(LayerscopeError):
    """Bad configuration file or value."""


class SourceUnavailableError(LayerscopeError):
    """A daemon or registry that cannot be reached or refuses us."""

    exit_code = 3


class DaemonUnavailableError(SourceUnavailableError):
    """The Docker engine is not running or not reachable."""


class RegistryUnavailableError(SourceUnavailableError):
    """The registry cannot be reached, or refused authentication."""


class StoreError(LayerscopeError):
    """The cache or history database cannot be used."""


class StoreUnavailableError(StoreError):
    """A history store server that cannot be reached or refuses us (after retries)."""

    exit_code = 3
