"""map_history / base_layer_count on images really built by the classic builder, BuildKit and
buildah from one multi-stage Dockerfile (tests/dockerfile/realbuilds.py)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from layerscope.dockerfile import base_layer_count, map_history, parse_dockerfile
from layerscope.sources import load_image
from tests.dockerfile.realbuilds import APP_DOCKERFILE, BASE_DOCKERFILE, BUILDERS, RealBuild

pytestmark = pytest.mark.docker

LINES = APP_DOCKERFILE.splitlines()


def line_of(prefix: str) -> int:
    """1-based line of the instruction starting with ``prefix`` in the final stage."""
    final_from = max(i for i, line in enumerate(LINES) if line.startswith("FROM "))
    return next(i + 1 for i in range(final_from, len(LINES)) if LINES[i].startswith(prefix))


# The final stage's instructions in order; each makes one history entry in every builder.
USER_PREFIXES = (
    "ARG GREETING", "ENV APP_MODE", "LABEL", "WORKDIR", "COPY app/a.txt", "COPY --chown",
    "COPY --from", "ADD", 'RUN echo "$GREETING"', 'RUN ["/bin/sh"', "USER", "CMD",
)  # fmt: skip
# The base image: FROM scratch, COPY rootfs/ (one layer), ENV PATH, CMD -> 3 history entries.
BASE_ENTRIES = sum(1 for line in BASE_DOCKERFILE.splitlines() if not line.startswith("FROM"))
BASE_LAYERS = 1


@pytest.mark.parametrize("builder", BUILDERS)
def test_history_maps_to_final_stage_lines(
    builder: str, real_builds: Mapping[str, RealBuild]
) -> None:
    image = load_image(real_builds[builder].archive_ref)
    dockerfile = parse_dockerfile(APP_DOCKERFILE)
    mapped = map_history(dockerfile, image)

    assert len(mapped) == len(image.history) == BASE_ENTRIES + len(USER_PREFIXES)
    base, user = mapped[:BASE_ENTRIES], mapped[BASE_ENTRIES:]
    assert all(item.is_base and item.instruction is None for item in base)
    got = [item.instruction.start_line if item.instruction else None for item in user]
    assert got == [line_of(prefix) for prefix in USER_PREFIXES]
    assert not any(item.is_base for item in user)
    # The continued RUN spans two lines.
    run_item = user[USER_PREFIXES.index('RUN echo "$GREETING"')]
    assert run_item.instruction is not None
    assert (run_item.instruction.start_line, run_item.instruction.end_line) == (
        line_of('RUN echo "$GREETING"'),
        line_of('RUN echo "$GREETING"') + 1,
    )
    # Every RUN and COPY/ADD matched on its text or destination, not only the keyword.
    for item in user:
        if item.instruction and item.instruction.keyword in ("RUN", "COPY", "ADD"):
            assert item.exact, item.history.created_by


@pytest.mark.parametrize("builder", BUILDERS)
def test_layers_line_up_with_history(builder: str, real_builds: Mapping[str, RealBuild]) -> None:
    image = load_image(real_builds[builder].archive_ref)
    mapped = map_history(parse_dockerfile(APP_DOCKERFILE), image)
    with_layers = [item for item in mapped if item.layer_index is not None]
    assert [item.layer_index for item in with_layers] == list(range(len(image.layers)))
    for item in with_layers:
        assert item.layer_index is not None
        assert image.layers[item.layer_index].history == item.history
    # Layer-making instructions: COPY x3, ADD, RUN x2 in every builder; WORKDIR too in
    # BuildKit and the classic builder (buildah records it as an empty layer).
    keywords = [item.instruction.keyword for item in with_layers if item.instruction]
    expected = ["COPY", "COPY", "COPY", "ADD", "RUN", "RUN"]
    if builder != "buildah":
        expected.insert(0, "WORKDIR")
    assert keywords == expected


@pytest.mark.parametrize("builder", BUILDERS)
def test_base_layer_count(builder: str, real_builds: Mapping[str, RealBuild]) -> None:
    image = load_image(real_builds[builder].archive_ref)
    assert base_layer_count(parse_dockerfile(APP_DOCKERFILE), image) == BASE_LAYERS


@pytest.mark.parametrize("builder", BUILDERS)
def test_wrong_dockerfile_does_not_fit(builder: str, real_builds: Mapping[str, RealBuild]) -> None:
    image = load_image(real_builds[builder].archive_ref)
    other = parse_dockerfile("FROM scratch\nCOPY x /x\nRUN echo other\n")
    assert base_layer_count(other, image) is None
