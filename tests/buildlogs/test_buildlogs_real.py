"""Build-log parsers on the output of real builds (tests/dockerfile/realbuilds.py): the classic
builder, BuildKit --progress=plain and buildah --layers, each a first build and a rebuild after
``added.txt`` changed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from layerscope.buildlogs import BuildLogFormat, join_log_to_layers, parse_build_log
from layerscope.dockerfile import map_history, parse_dockerfile
from layerscope.sources import load_image
from tests.dockerfile.realbuilds import APP_DOCKERFILE, RealBuild

pytestmark = pytest.mark.docker

FORMATS = {
    "classic": BuildLogFormat.CLASSIC,
    "buildkit": BuildLogFormat.BUILDKIT_PLAIN,
    "buildah": BuildLogFormat.BUILDAH,
}
# Every instruction after the first FROM, in file order (the builder stage first).
ALL_STEPS = [
    line.strip()
    for line in APP_DOCKERFILE.replace("&& \\\n", "&& ").splitlines()
    if line[:1].isupper() and not line.startswith(("ARG BASE", "FROM"))
]
GLOBAL_ARG = next(line for line in APP_DOCKERFILE.splitlines() if line.startswith("ARG BASE"))
# BuildKit logs only steps that run something: RUN, COPY, ADD, WORKDIR (and FROM of images).
BUILDKIT_KEYWORDS = ("RUN", "COPY", "ADD", "WORKDIR")
# On the rebuild, added.txt changed: its ADD and everything after it in the final stage runs;
# the rest is cached.
FIRST_MISS = "ADD added.txt"


def expected_steps(builder: str) -> list[str]:
    keep = [s for s in ALL_STEPS if builder != "buildkit" or s.startswith(BUILDKIT_KEYWORDS)]
    if builder == "classic":  # the classic builder also counts the ARG before the first FROM
        keep.insert(0, GLOBAL_ARG)
    return keep


def text_of(step_instruction: str) -> str:
    return " ".join(step_instruction.split())


@pytest.mark.parametrize("builder", sorted(FORMATS))
@pytest.mark.parametrize("which", ["first", "rebuild"])
def test_steps_and_cache_flags(
    builder: str, which: str, real_builds: Mapping[str, RealBuild]
) -> None:
    build = real_builds[builder]
    log = parse_build_log(
        Path(build.first_log if which == "first" else build.rebuild_log).read_text()
    )
    assert log.format is FORMATS[builder]
    steps = [s for s in log.steps if s.keyword != "FROM"]
    want = [text_of(s) for s in expected_steps(builder)]
    if builder == "buildkit":  # BuildKit prints RUN with the build arg substituted
        want = [w.replace('"$GREETING"', '"hi"') for w in want]
        # Stages run at the same time, and BuildKit prints them interleaved in any order;
        # within one stage the order is the Dockerfile's.
        for stage in {s.stage for s in steps}:
            texts = [text_of(s.instruction) for s in steps if s.stage == stage]
            assert texts == [w for w in want if w in texts], stage
        steps.sort(key=lambda s: want.index(text_of(s.instruction)))
    got = [text_of(s.instruction) for s in steps]
    assert got == want
    # A global ARG makes no image, so the log says nothing about its cache.
    assert all(s.cached is None for s in steps if s.instruction == GLOBAL_ARG)
    steps = [s for s in steps if s.instruction != GLOBAL_ARG]
    want = [w for w in want if w != GLOBAL_ARG]
    if which == "first":
        assert [s.cached for s in steps] == [False] * len(steps)
    else:
        miss_at = next(i for i, w in enumerate(want) if w.startswith(FIRST_MISS))
        assert [s.cached for s in steps] == [True] * miss_at + [False] * (len(steps) - miss_at)
    assert [s.index for s in log.steps] == list(range(len(log.steps)))
    assert all(s.cached is None for s in log.steps if s.keyword == "FROM")
    if builder == "buildkit":
        ran = [s for s in steps if not s.cached]
        assert all(s.duration_seconds is not None and s.duration_seconds >= 0 for s in ran)
    else:
        assert all(s.duration_seconds is None for s in log.steps)
    assert log.error is None


@pytest.mark.parametrize("builder", sorted(FORMATS))
def test_image_id_and_tag(builder: str, real_builds: Mapping[str, RealBuild]) -> None:
    build = real_builds[builder]
    log = parse_build_log(Path(build.rebuild_log).read_text())
    full = build.image_id.removeprefix("sha256:")
    assert log.image_id is not None
    assert full.startswith(log.image_id.removeprefix("sha256:"))
    assert len(log.image_id.removeprefix("sha256:")) >= 12
    tag = {
        "classic": "layerscope-test/df-app-classic:1",
        "buildkit": "docker.io/layerscope-test/df-app-buildkit:1",
        "buildah": "localhost/layerscope-test/df-app:1",
    }[builder]
    assert tag in log.tags


@pytest.mark.parametrize("builder", sorted(FORMATS))
def test_join_log_to_layers(builder: str, real_builds: Mapping[str, RealBuild]) -> None:
    build = real_builds[builder]
    image = load_image(build.archive_ref)
    mapped = map_history(parse_dockerfile(APP_DOCKERFILE), image)
    log = parse_build_log(Path(build.rebuild_log).read_text())
    joined = join_log_to_layers(log, mapped)
    assert [item.layer for item in joined] == list(mapped)
    for item in joined:
        ins = item.layer.instruction
        if ins is None:
            assert item.step is None
            continue
        if builder == "buildkit" and ins.keyword not in BUILDKIT_KEYWORDS:
            assert item.step is None, ins.text
            continue
        assert item.step is not None, ins.text
        assert item.step.keyword == ins.keyword
        assert item.step.stage in (None, "stage-1", "1")
    steps = [item.step for item in joined if item.step is not None]
    assert len({id(step) for step in steps}) == len(steps)


@pytest.mark.parametrize("builder", sorted(FORMATS))
def test_failed_build(builder: str, real_builds: Mapping[str, RealBuild]) -> None:
    log = parse_build_log(Path(real_builds[builder].failed_log).read_text())
    assert log.format is FORMATS[builder]
    last = log.steps[-1]
    assert last.instruction == "RUN echo about to fail && false"
    assert last.cached is False
    assert last.error is not None and log.error is not None
    assert "\n" not in log.error
    assert all(step.error is None for step in log.steps[:-1])
    assert log.image_id is None and log.tags == ()


def test_buildah_without_layers(real_builds: Mapping[str, RealBuild]) -> None:
    path = real_builds["buildah"].nolayers_log
    assert path is not None
    log = parse_build_log(Path(path).read_text())
    steps = [s for s in log.steps if s.keyword != "FROM"]
    assert [text_of(s.instruction) for s in steps] == [text_of(s) for s in ALL_STEPS]
    # Without --layers only the final commit prints "--> <id>": that step ran; the log says
    # nothing about the others.
    assert [s.cached for s in steps] == [None] * (len(steps) - 1) + [False]
    assert log.image_id is not None and len(log.image_id) == 64
