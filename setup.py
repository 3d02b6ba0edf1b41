"""Build hook for the optional C extensions; the project's metadata lives in pyproject.toml.

``layerscope._tarwalk`` is the tar walker's hot loop in C (native/tarwalk.c). It is optional:
without a C compiler or Python headers the build prints a warning, skips it, and layerscope
uses its pure-Python walker (same results, slower). ``layerscope._entries`` (native/entries.c)
builds a cached layer index's entries from its columns and encodes the common columns of one;
without it store/codec.py does both in Python. ``layerscope._stack`` (native/stack.c), the
common case of stacking layers (tree), is optional the same way.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "layerscope._tarwalk",
            sources=["native/tarwalk.c"],
            depends=["native/xxhash/xxhash.h"],
            include_dirs=["native"],
            extra_compile_args=["-O3", "-pthread"],
            extra_link_args=["-pthread"],
            optional=True,
        ),
        # a cached layer index: its common columns encoded, its entries built (store/codec.py)
        Extension(
            "layerscope._entries",
            sources=["native/entries.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        # the common case of applying a layer's entries to the stacked tree (tree/fast.py)
        Extension(
            "layerscope._stack",
            sources=["native/stack.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
    ]
)
