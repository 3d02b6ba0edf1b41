"""Run one fuzz target under atheris (coverage-guided):
``python -m tests.fuzz.atheris_main TARGET CORPUS_DIR [libFuzzer flags]``; scripts/fuzz drives it.

Every layerscope module is imported inside ``instrument_imports`` (the CLI imports its commands
lazily, and a module imported later would run without coverage feedback).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["layerscope"]):
    import layerscope

    for module in pkgutil.walk_packages(layerscope.__path__, "layerscope."):
        if not module.name.startswith(
            ("layerscope.tui", "layerscope.testing", "layerscope.__main__")
        ):
            importlib.import_module(module.name)
    from tests.fuzz import harness


def main() -> None:
    name, corpus = sys.argv[1], Path(sys.argv[2])
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(harness.seeds(name)):
        (corpus / f"seed-{i}").write_bytes(seed)
    run = harness.target(name)
    atheris.Setup([sys.argv[0], *sys.argv[3:], str(corpus)], run)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
