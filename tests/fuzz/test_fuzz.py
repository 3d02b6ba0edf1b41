"""The fuzz targets in the suite: every seed, a fixed-seed batch of mutants, and every input a
campaign ever found (tests/fuzz/regressions/TARGET/*), through the same code the CLI runs.

The long, coverage-guided campaign is ``scripts/fuzz`` (atheris); this keeps each target honest
on every run in a few seconds. A case fails the test when layerscope raises anything but a
LayerscopeError, or the CLI's answer is not exit 0/1 or one ``layerscope: error:`` line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import harness
from .mutate import cases

CASES_PER_TARGET = 120
SEED = 20261207
REGRESSIONS = Path(__file__).parent / "regressions"


@pytest.mark.parametrize("name", sorted(harness.TARGETS))
def test_fuzz_target_fixed_seed(name: str) -> None:
    run = harness.target(name)
    seeds = harness.seeds(name)
    kept = sorted((REGRESSIONS / name).glob("*")) if (REGRESSIONS / name).is_dir() else []
    done = 0
    for data in [p.read_bytes() for p in kept] + list(cases(seeds, CASES_PER_TARGET, SEED)):
        try:
            run(data)
        except Exception as exc:  # noqa: BLE001 - the finding is reported with its input
            raise AssertionError(f"{name}: {type(exc).__name__}: {exc} on {data[:200]!r}") from exc
        done += 1
    assert done == len(kept) + len(seeds) + CASES_PER_TARGET


def test_every_regression_names_a_target() -> None:
    if REGRESSIONS.is_dir():
        for folder in REGRESSIONS.iterdir():
            assert folder.name in harness.TARGETS, folder
