"""Build hook for the optional C walker; the project's metadata lives in pyproject.toml.

``layerscope._tarwalk`` is the tar walker's hot loop in C (native/tarwalk.c). It is optional:
without a C compiler or Python headers the build prints a warning, skips it, and layerscope
uses its pure-Python walker (same results, slower).
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
        )
    ]
)
