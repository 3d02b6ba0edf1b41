"""parse_created_by / instruction_from_created_by on the strings of formats.md 8a."""

from __future__ import annotations

import pytest

from layerscope.dockerfile import instruction_from_created_by, parse_created_by

HEX = "0988685292362833ee47b045aeac504d0e4fb5520563a2cae9ac550735d3ddf1"


@pytest.mark.parametrize(
    ("created_by", "comment", "keyword", "body", "builder"),
    [
        ("/bin/sh -c #(nop)  ENV A=b", "", "ENV", "A=b", "classic"),
        ('/bin/sh -c #(nop)  CMD ["sh" "-c" "x"]', "", "CMD", '["sh" "-c" "x"]', "classic"),
        ("/bin/sh -c #(nop) WORKDIR /app", "", "WORKDIR", "/app", "unknown"),
        ("/bin/sh -c apt-get update", "", "RUN", "apt-get update", "classic"),
        ("RUN /bin/sh -c apt-get update # buildkit", "buildkit.dockerfile.v0", "RUN",
         "apt-get update", "buildkit"),
        ("ENV A=b", "buildkit.dockerfile.v0", "ENV", "A=b", "buildkit"),
        ("EXPOSE [8080/tcp]", "buildkit.dockerfile.v0", "EXPOSE", "[8080/tcp]", "buildkit"),
        ("/bin/sh -c #(nop) ARG GREETING", "FROM 7de16c8c3e13", "ARG", "GREETING", "buildah"),
        ('/bin/sh -c #(nop) LABEL k="v 1"', "", "LABEL", 'k="v 1"', "buildah"),
    ],
)  # fmt: skip
def test_keyword_body_builder(
    created_by: str, comment: str, keyword: str, body: str, builder: str
) -> None:
    parsed = parse_created_by(created_by, comment)
    assert (parsed.keyword, parsed.body, parsed.builder) == (keyword, body, builder)


def test_run_build_args() -> None:
    classic = parse_created_by("|2 A=1 B=2 /bin/sh -c make all")
    assert (classic.keyword, classic.body, classic.build_args) == (
        "RUN", "make all", (("A", "1"), ("B", "2")),
    )  # fmt: skip
    buildkit = parse_created_by("RUN |1 FOO=bar /bin/sh -c echo $FOO # buildkit")
    assert (buildkit.body, buildkit.build_args) == ("echo $FOO", (("FOO", "bar"),))
    buildah = parse_created_by('|1 G=hi /bin/sh -c ["/bin/sh", "-c", "echo x"]')
    assert buildah.body == '["/bin/sh", "-c", "echo x"]'


@pytest.mark.parametrize(
    ("created_by", "destination", "sources"),
    [
        (f"/bin/sh -c #(nop) ADD file:{HEX} in /app/added.txt ", "/app/added.txt",
         (f"file:{HEX}",)),
        # The classic builder writes --chown with no space before the hash.
        (f"/bin/sh -c #(nop) COPY --chown=1000:1001dir:{HEX} in /app/owned/ ", "/app/owned/",
         (f"dir:{HEX}",)),
        (f"/bin/sh -c #(nop) COPY --link multi:{HEX} in /dst ", "/dst", (f"multi:{HEX}",)),
        ("COPY --chown=a:b --chmod=644 src other /dst # buildkit", "/dst", ("src", "other")),
        ("COPY <<EOF /etc/conf # buildkit", "/etc/conf", ("<<EOF",)),
    ],
)  # fmt: skip
def test_copy_destination(created_by: str, destination: str, sources: tuple[str, ...]) -> None:
    parsed = parse_created_by(created_by)
    assert (parsed.destination, parsed.sources) == (destination, sources)


@pytest.mark.parametrize(
    ("created_by", "instruction"),
    [
        ("/bin/sh -c #(nop)  ENV A=b", "ENV A=b"),
        ("/bin/sh -c apt-get update", "RUN apt-get update"),
        ("RUN /bin/sh -c x # buildkit", "RUN x"),
        ("|1 A=1 /bin/sh -c make", "RUN make"),
        ("COPY . . # buildkit", "COPY . ."),
        ("", ""),
    ],
)
def test_instruction_from_created_by(created_by: str, instruction: str) -> None:
    assert instruction_from_created_by(created_by) == instruction
