"""The rule every optional compiled extension follows (native/*.c, built by setup.py).

``layerscope._tarwalk`` (the walk), ``_stack`` (stacking) and ``_entries`` (the layer cache's
entries) are each optional: not built when the package was installed without a C compiler,
and all switched off with ``LAYERSCOPE_PURE_PYTHON=1``. The pure-Python code then does the
same work (the same results, slower); it is each extension's definition and oracle.
"""

from __future__ import annotations

import os


def pure_python() -> bool:
    """True when ``LAYERSCOPE_PURE_PYTHON`` is set (to anything but ``0``): use no extension."""
    return os.environ.get("LAYERSCOPE_PURE_PYTHON", "") not in ("", "0")
