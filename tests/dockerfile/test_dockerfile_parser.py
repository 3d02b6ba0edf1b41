"""parse_dockerfile on hand-written Dockerfiles; expected values worked out by hand."""

from __future__ import annotations

import pytest

from layerscope.dockerfile import DockerfileError, parse_dockerfile
from layerscope.errors import ConfigError

MULTI = """\
# syntax=docker/dockerfile:1.7
# check=skip=all
ARG PY=3.12
ARG DEBIAN=bookworm

FROM python:${PY}-slim-${DEBIAN} AS deps
RUN --mount=type=cache,target=/root/.cache/pip \\
    --mount=type=bind,source=requirements.txt,target=/r.txt \\
    pip install -r /r.txt

from deps as Test
# a comment inside a continued line is dropped
RUN apt-get update && \\
    # install tools
    apt-get install -y --no-install-recommends curl \\

    && rm -rf /var/lib/apt/lists/*

FROM --platform=linux/amd64 deps
COPY --link --chown=app:app --chmod=0755 --from=test /bin/curl /usr/bin/curl
ENV A=1 B="two words"
ENTRYPOINT ["python", "-m", "app"]
CMD --help
"""


def test_directives_and_global_args() -> None:
    df = parse_dockerfile(MULTI, path="ctx/Dockerfile")
    assert df.path == "ctx/Dockerfile"
    assert df.directives == (("syntax", "docker/dockerfile:1.7"), ("check", "skip=all"))
    assert df.escape == "\\"
    assert [ins.arguments for ins in df.global_args] == ["PY=3.12", "DEBIAN=bookworm"]
    assert all(ins.stage_index is None for ins in df.global_args)


def test_stages() -> None:
    df = parse_dockerfile(MULTI)
    assert [(s.index, s.name, s.base, s.parent_stage) for s in df.stages] == [
        (0, "deps", "python:${PY}-slim-${DEBIAN}", None),
        (1, "Test", "deps", 0),  # stage names match case-insensitively
        (2, None, "deps", 0),
    ]
    assert df.stages[0].base_resolved == "python:3.12-slim-bookworm"
    assert df.stages[2].platform == "linux/amd64"
    assert df.stages[1].from_instruction.start_line == 11
    assert df.final_stage is df.stages[2]
    assert df.stage("test") is df.stages[1]
    assert [s.index for s in df.stage_chain()] == [0, 2]
    assert df.stages[2].from_instruction.start_line == 19
    # deps' RUN (line 7), then the final stage's COPY, ENV, ENTRYPOINT, CMD (lines 20-23).
    assert [ins.start_line for ins in df.image_instructions()] == [7, 20, 21, 22, 23]


def test_run_flags_and_continuations() -> None:
    df = parse_dockerfile(MULTI)
    pip = df.stages[0].instructions[0]
    assert (pip.keyword, pip.start_line, pip.end_line) == ("RUN", 7, 9)
    assert [f.name for f in pip.flags] == ["mount", "mount"]
    assert pip.flags_named("mount")[0].options == (
        ("type", "cache"),
        ("target", "/root/.cache/pip"),
    )
    assert pip.arguments == "pip install -r /r.txt"
    assert pip.source == "\n".join(MULTI.splitlines()[6:9])

    apt = df.stages[1].instructions[0]
    # Lines 13-17: the comment line and the blank line inside the continuation are dropped;
    # each "\\" and the line break after it vanish, the indentation stays.
    assert (apt.start_line, apt.end_line) == (13, 17)
    assert apt.arguments == (
        "apt-get update &&     apt-get install -y --no-install-recommends curl "
        "    && rm -rf /var/lib/apt/lists/*"
    )
    assert apt.shell == apt.arguments and apt.exec_form is None


def test_copy_flags_env_and_exec_forms() -> None:
    final = parse_dockerfile(MULTI).final_stage.instructions
    copy, env, entrypoint, cmd = final
    assert [(f.name, f.value) for f in copy.flags] == [
        ("link", None), ("chown", "app:app"), ("chmod", "0755"), ("from", "test"),
    ]  # fmt: skip
    assert copy.flag("link") == "" and copy.flag("from") == "test" and copy.flag("x") is None
    assert copy.words == ("/bin/curl", "/usr/bin/curl")
    assert (
        copy.text == "COPY --link --chown=app:app --chmod=0755 --from=test /bin/curl /usr/bin/curl"
    )
    assert env.words == ("A=1", "B=two words")
    assert entrypoint.exec_form == ("python", "-m", "app")
    assert cmd.exec_form is None and cmd.shell == "--help"  # CMD takes no flags


def test_heredocs() -> None:
    text = (
        "FROM alpine\n"  # 1
        "RUN <<EOF bash\n"  # 2
        "set -e\n"  # 3
        "echo $HOME\n"  # 4
        "EOF\n"  # 5
        'COPY <<-"CONF" 3<<two /etc/\n'  # 6
        "\tkey=1\n"  # 7
        "\tCONF\n"  # 8
        "second\n"  # 9
        "two\n"  # 10
        "RUN echo done\n"  # 11
    )
    df = parse_dockerfile(text)
    run, copy, last = df.final_stage.instructions
    assert (run.start_line, run.end_line, run.arguments) == (2, 5, "<<EOF bash")
    assert [(h.name, h.content, h.chomp, h.expand) for h in run.heredocs] == [
        ("EOF", "set -e\necho $HOME\n", False, True)
    ]
    assert (copy.start_line, copy.end_line) == (6, 10)
    assert [(h.name, h.content, h.chomp, h.expand, h.file_descriptor) for h in copy.heredocs] == [
        ("CONF", "key=1\n", True, False, None),
        ("two", "second\n", False, True, 3),
    ]
    assert last.start_line == 11 and last.arguments == "echo done"


def test_escape_directive_backtick() -> None:
    text = "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir c:\\ `\n    && echo ok\n"
    df = parse_dockerfile(text)
    assert df.escape == "`"
    run = df.final_stage.instructions[0]
    assert run.arguments == "dir c:\\     && echo ok"
    assert (run.start_line, run.end_line) == (3, 4)


def test_directive_after_comment_is_a_comment() -> None:
    df = parse_dockerfile("# hello\n# escape=`\nFROM scratch\nRUN a \\\n b\n")
    assert df.directives == ()
    assert df.final_stage.instructions[0].arguments == "a  b"


def test_exec_form_falls_back_to_shell_form_on_bad_json() -> None:
    df = parse_dockerfile("FROM scratch\nCMD [not json]\n")
    cmd = df.final_stage.instructions[0]
    assert cmd.exec_form is None and cmd.shell == "[not json]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RUN echo\n", "Dockerfile:1: RUN before the first FROM"),
        ("ARG X=1\n", "Dockerfile: no FROM instruction"),
        ("FROM a\nFETCH b\n", "Dockerfile:2: unknown instruction FETCH"),
        ("FROM a\nRUN <<EOF\necho\n", "Dockerfile:2: heredoc <<EOF is not terminated"),
        ("# escape=x\nFROM a\n", "invalid escape directive 'x'"),
        ("FROM a b c d\n", "Dockerfile:1: FROM takes IMAGE [AS NAME]"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as info:
        parse_dockerfile(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ConfigError)
