"""Which leading layers belong to the base image (design.md, "Base vs user").

N, the number of base layers, comes from the first of these that applies:

1. ``base-ref``: a base image given by the user whose diff_ids are a prefix of the image's;
2. ``dockerfile``: a layer count derived from the Dockerfile (history after the last FROM);
3. ``label``: the ``org.opencontainers.image.base.name`` / ``.digest`` annotation or label.
   These name the base but do not say how many layers it has, so the label alone never gives
   N: the caller resolves ``base_reference_from_labels(image)`` to an image and passes it with
   ``base_from_label=True``; when its diff_ids are a prefix, N is its layer count and the
   method is ``label``;
4. ``default``: N = 1, as dive does (0 for an image without layers).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from layerscope.model import Image

__all__ = [
    "BASE_NAME_KEY",
    "BASE_DIGEST_KEY",
    "BaseMethod",
    "BaseSplit",
    "base_layers",
    "base_reference_from_labels",
]

BASE_NAME_KEY = "org.opencontainers.image.base.name"
BASE_DIGEST_KEY = "org.opencontainers.image.base.digest"


class BaseMethod(Enum):
    """What decided the number of base layers."""

    BASE_REF = "base-ref"
    DOCKERFILE = "dockerfile"
    LABEL = "label"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class BaseSplit:
    """The first ``count`` layers are the base image's; the rest are the user's."""

    count: int
    method: BaseMethod
    base_bytes: int
    user_bytes: int
    base_mismatch: bool = False
    """A base image was given but its diff_ids are not a prefix of this image's (ignored)."""


def base_reference_from_labels(image: Image) -> str | None:
    """The base image named by annotations or labels (``name@digest``, a name, or a digest)."""
    found = dict(image.config.labels)
    found.update(image.annotations)  # manifest annotations win over config labels
    name = found.get(BASE_NAME_KEY, "").strip()
    digest = found.get(BASE_DIGEST_KEY, "").strip()
    if name and digest and "@" not in name:
        return f"{name}@{digest}"
    return name or digest or None


def _is_prefix(base: Image, image: Image) -> bool:
    prefix = base.diff_ids
    return len(prefix) <= len(image.diff_ids) and image.diff_ids[: len(prefix)] == prefix


def _split(image: Image, count: int, method: BaseMethod, mismatch: bool) -> BaseSplit:
    count = max(0, min(count, len(image.layers)))
    base_bytes = sum(layer.size_bytes for layer in image.layers[:count])
    return BaseSplit(count, method, base_bytes, image.size_bytes - base_bytes, mismatch)


def base_layers(
    image: Image,
    base_image: Image | None = None,
    dockerfile_base_count: int | None = None,
    *,
    base_from_label: bool = False,
) -> BaseSplit:
    """Split ``image`` into base and user layers (see the module docstring for the order)."""
    mismatch = False
    if base_image is not None and not base_from_label:
        if _is_prefix(base_image, image):
            return _split(image, len(base_image.layers), BaseMethod.BASE_REF, False)
        mismatch = True
    if dockerfile_base_count is not None:
        return _split(image, dockerfile_base_count, BaseMethod.DOCKERFILE, mismatch)
    if base_image is not None and base_from_label:
        if _is_prefix(base_image, image):
            return _split(image, len(base_image.layers), BaseMethod.LABEL, mismatch)
        mismatch = True
    return _split(image, 1, BaseMethod.DEFAULT, mismatch)
