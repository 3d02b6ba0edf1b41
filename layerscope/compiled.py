"""The rule every optional compiled extension follows (native/*.c, built by setup.py).

``layerscope._tarwalk`` (the walk), ``_stack`` (stacking) and ``_entries`` (the layer cache's
entries) are each optional: not built when the package was installed without a C compiler,
and all switched off with ``LAYERSCOPE_PURE_PYTHON=1``. The pure-Python code then does the
same work (the same results, slower); it is each extension's definition and oracle.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def pure_python() -> bool:
    """True when ``LAYERSCOPE_PURE_PYTHON`` is set (to anything but ``0``): use no extension."""
    return os.environ.get("LAYERSCOPE_PURE_PYTHON", "") not in ("", "0")


def extension(name: str) -> ModuleType | None:
    """The compiled extension ``layerscope.<name>`` (``_tarwalk``, ``_stack``, ``_entries``), or
    None when it was not built or ``pure_python()``: its caller then does the work in Python."""
    if pure_python():
        return None
    try:
        return importlib.import_module(f"layerscope.{name}")
    except ImportError:
        return None
