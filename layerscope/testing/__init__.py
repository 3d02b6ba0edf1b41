"""Deterministic container image builder for tests, the demo and benchmarks (writes only)."""

from layerscope.testing.demo import write_demo
from layerscope.testing.spec import (
    DEFAULT_CREATED,
    Device,
    Dir,
    EmptyHistory,
    Entry,
    Fifo,
    File,
    Hardlink,
    ImageSpec,
    IndexSpec,
    LayerSpec,
    Opaque,
    RawBytes,
    RawMember,
    Symlink,
    Synthetic,
    Whiteout,
    add_parent_dirs,
)
from layerscope.testing.tarstream import write_layer
from layerscope.testing.writer import (
    FORMATS,
    Format,
    WriteResult,
    WrittenImage,
    WrittenLayer,
    write_image,
)

EMPTY_TAR_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

__all__ = [
    "DEFAULT_CREATED",
    "EMPTY_TAR_DIFF_ID",
    "FORMATS",
    "Device",
    "Dir",
    "EmptyHistory",
    "Entry",
    "Fifo",
    "File",
    "Format",
    "Hardlink",
    "ImageSpec",
    "IndexSpec",
    "LayerSpec",
    "Opaque",
    "RawBytes",
    "RawMember",
    "Symlink",
    "Synthetic",
    "Whiteout",
    "WriteResult",
    "WrittenImage",
    "WrittenLayer",
    "add_parent_dirs",
    "write_demo",
    "write_image",
    "write_layer",
]
