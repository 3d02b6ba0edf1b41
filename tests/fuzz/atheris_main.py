"""Run one fuzz target under atheris (coverage-guided):
``python -m tests.fuzz.atheris_main TARGET CORPUS_DIR [libFuzzer flags]``; scripts/fuzz drives it.

The parsing modules are imported inside ``instrument_imports`` (the CLI imports its commands
lazily, and a module imported later would run without coverage feedback).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import atheris

PARSERS = (
    "layerscope.layers",
    "layerscope.tree",
    "layerscope.refs",
    "layerscope.platforms",
    "layerscope.credentials",
    "layerscope.sources",
    "layerscope.buildlogs",
    "layerscope.dockerfile",
    "layerscope.budget_config",
)
"""The modules that read the fuzzed input get coverage feedback; instrumenting analysis, render
and store too made every case several times slower for little more reach."""

with atheris.instrument_imports(include=list(PARSERS)):
    import layerscope

    for module in pkgutil.walk_packages(layerscope.__path__, "layerscope."):
        if module.name.startswith(PARSERS):
            importlib.import_module(module.name)

from tests.fuzz import harness  # noqa: E402 - after the instrumented imports


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
