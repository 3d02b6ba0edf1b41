"""Acceptance of issue 16 over the corpus: for each naive Dockerfile and each of the engine's
builders, the combined patch (applied with GNU patch from the folder suggest ran in) builds,
saves within 10% of ``patch_saving_bytes`` (the engine's own image sizes), and after a one-line
source edit the patched Dockerfile rebuilds with every step up to and including the dependency
install taken from the cache."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.prove.corpus import CASES, Case, write_context
from tests.prove.kit import (
    BUILDERS,
    apply_patch,
    dependency_cached,
    must_build,
    size_of,
    step_cache,
    suggest_in,
    touch,
)


@pytest.mark.docker
@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_combined_patch_builds_saves_and_keeps_dependencies_cached(
    case: Case,
    builder: str,
    docker_cli: str,
    corpus_bases: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = write_context(case, tmp_path / "ctx")
    tag = f"layerscope-test/corpus-{case.name}-{builder}-{uuid.uuid4().hex[:8]}"
    must_build(docker_cli, ctx, f"{tag}:naive", builder=builder, network=case.network)
    doc = suggest_in(ctx, f"docker://{tag}:naive", monkeypatch)
    assert doc["patch"], f"no combined patch for the {case.name} shape: {doc['suggestions']}"
    estimate = doc["patch_saving_bytes"]

    apply_patch(ctx, doc["patch"])
    must_build(docker_cli, ctx, f"{tag}:patched", builder=builder, network=case.network)
    measured = size_of(docker_cli, f"{tag}:naive") - size_of(docker_cli, f"{tag}:patched")
    assert abs(measured - estimate) <= 0.10 * max(estimate, 1), (measured, estimate)

    touch(ctx / case.touch)
    log = must_build(docker_cli, ctx, f"{tag}:touched", builder=builder, network=case.network)
    steps = step_cache(log, builder)
    ok, why = dependency_cached(steps, case)
    assert ok, f"{why}\npatched Dockerfile:\n{(ctx / 'Dockerfile').read_text()}"
    # the edit did reach the image: some step after the dependency install ran again
    assert not all(hit for _, hit in steps), steps
