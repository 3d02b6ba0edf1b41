"""Real ``.pyc`` files, compiled by CPython's own ``py_compile`` (timestamp-based, the pip default).

A rebuild compiles the same source at another time: the header (magic, flags, the source's mtime
and size) differs, the compiled code after it does not.
"""

from __future__ import annotations

import os
import py_compile
import tempfile
from pathlib import Path

HEADER = 16
"""PEP 552: magic, flags, then mtime and size (or a source hash) - 4 bytes each."""


def compiled_pyc(source: bytes, mtime: int, name: str = "/app/module.py") -> bytes:
    """The bytes ``py_compile`` writes for ``source`` at ``name``, last modified at ``mtime``."""
    with tempfile.TemporaryDirectory(prefix="layerscope-pyc-") as tmp:
        src = Path(tmp) / "module.py"
        src.write_bytes(source)
        os.utime(src, (mtime, mtime))
        out = Path(tmp) / "module.pyc"
        py_compile.compile(
            str(src),
            cfile=str(out),
            dfile=name,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
        )
        return out.read_bytes()
