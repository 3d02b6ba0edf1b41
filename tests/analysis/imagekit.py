"""Old short names of ``layerscope.testing.memory``'s builders, kept only so that branches written
against this module still merge; new tests import ``layerscope.testing.memory``. Delete once no
test imports it."""

from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from layerscope.testing.memory import hardlink_entry as hl
from layerscope.testing.memory import memory_image as image
from layerscope.testing.memory import memory_layer as layer
from layerscope.testing.memory import opaque_entry as opq
from layerscope.testing.memory import symlink_entry as sym
from layerscope.testing.memory import whiteout_entry as wh

__all__ = ["d", "f", "hl", "image", "layer", "opq", "sym", "wh"]
