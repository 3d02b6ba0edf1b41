"""map_history on hand-made histories (created_by strings in the forms of formats.md 8a)."""

from __future__ import annotations

import pytest

from layerscope.dockerfile import DockerfileError, base_layer_count, map_history, parse_dockerfile
from layerscope.model import HistoryEntry, Image
from layerscope.testing.memory import memory_image, memory_layer

BK = "buildkit.dockerfile.v0"
DOCKERFILE = """\
FROM debian:bookworm AS build
RUN make

FROM debian:bookworm
ARG VERSION=1
WORKDIR /srv
COPY --from=build /out/app /srv/app
ENV MODE=prod
CMD ["/srv/app"]
"""


def image(history: list[HistoryEntry]) -> Image:
    nonempty = [h for h in history if not h.empty_layer]
    layers = [memory_layer(i, (), history=h) for i, h in enumerate(nonempty)]
    return memory_image(*layers, ref="test", history=history)


# A debian base: ADD of the rootfs (one layer) and CMD, written by the classic builder.
BASE = [
    HistoryEntry("/bin/sh -c #(nop) ADD file:" + "e" * 64 + " in / "),
    HistoryEntry('/bin/sh -c #(nop)  CMD ["bash"]', empty_layer=True),
]


def test_buildkit_history_on_a_classic_base() -> None:
    user = [
        HistoryEntry("ARG VERSION=1", comment=BK, empty_layer=True),
        HistoryEntry("WORKDIR /srv", comment=BK),
        HistoryEntry("COPY /out/app /srv/app # buildkit", comment=BK),
        HistoryEntry("ENV MODE=prod", comment=BK, empty_layer=True),
        HistoryEntry('CMD ["/srv/app"]', comment=BK, empty_layer=True),
    ]
    img = image(BASE + user)
    mapped = map_history(parse_dockerfile(DOCKERFILE), img)
    assert [m.instruction.start_line if m.instruction else None for m in mapped] == [
        None, None, 5, 6, 7, 8, 9,
    ]  # fmt: skip
    assert [m.is_base for m in mapped] == [True, True] + [False] * 5
    assert [m.layer_index for m in mapped] == [0, None, None, 1, 2, None, None]
    assert all(m.exact for m in mapped[2:])
    assert base_layer_count(parse_dockerfile(DOCKERFILE), img) == 1


def test_unrecorded_arg_and_exporter_entries() -> None:
    user = [
        HistoryEntry("WORKDIR /srv", comment=BK),
        HistoryEntry("COPY /out/app /srv/app # buildkit", comment=BK),
        HistoryEntry("created by buildkit", comment="buildkit.exporter.image.v0"),
        HistoryEntry("ENV MODE=prod", comment=BK, empty_layer=True),
        HistoryEntry('CMD ["/srv/app"]', comment=BK, empty_layer=True),
    ]
    mapped = map_history(parse_dockerfile(DOCKERFILE), image(BASE + user))
    lines = [m.instruction.start_line if m.instruction else None for m in mapped]
    assert lines == [None, None, 6, 7, None, 8, 9]  # ARG (line 5) left no entry
    assert [m.is_base for m in mapped] == [True, True, False, False, False, False, False]


def test_mismatch_names_the_line() -> None:
    user = [
        HistoryEntry("WORKDIR /srv", comment=BK),
        HistoryEntry("RUN /bin/sh -c echo changed # buildkit", comment=BK),
        HistoryEntry("ENV MODE=prod", comment=BK, empty_layer=True),
        HistoryEntry('CMD ["/srv/app"]', comment=BK, empty_layer=True),
    ]
    df = parse_dockerfile(DOCKERFILE)
    with pytest.raises(DockerfileError, match=r"does not match line 7 of the Dockerfile: COPY"):
        map_history(df, image(BASE + user))
    assert base_layer_count(df, image(BASE + user)) is None


def test_history_shorter_than_the_stage() -> None:
    df = parse_dockerfile(DOCKERFILE)
    short = [
        HistoryEntry("ENV MODE=prod", comment=BK, empty_layer=True),
        HistoryEntry('CMD ["/srv/app"]', comment=BK, empty_layer=True),
    ]
    # Matching runs backwards: ENV (8) and CMD (9) match, the COPY on line 7 has no entry.
    with pytest.raises(DockerfileError, match="ends before line 7"):
        map_history(df, image(short))


def test_named_stage_target() -> None:
    user = [HistoryEntry("RUN /bin/sh -c make # buildkit", comment=BK)]
    df = parse_dockerfile(DOCKERFILE)
    mapped = map_history(df, image(BASE + user), stage="build")
    assert [m.is_base for m in mapped] == [True, True, False]
    assert mapped[2].instruction is not None and mapped[2].instruction.start_line == 2
    with pytest.raises(DockerfileError, match="no stage named nope"):
        map_history(df, image(BASE + user), stage="nope")


def test_scratch_with_extra_history_does_not_fit() -> None:
    df = parse_dockerfile("FROM scratch\nCOPY a /a\n")
    img = image([*BASE, HistoryEntry("COPY a /a # buildkit", comment=BK)])
    with pytest.raises(DockerfileError, match="FROM scratch"):
        map_history(df, img)
