"""analysis/suggest/dockerignore.py: junk and large data files a COPY of the build context
brought in, kept out with .dockerignore entries (bytes worked out by hand)."""

from __future__ import annotations

from layerscope.analysis import Analysis
from layerscope.analysis.suggest import OpKind, SuggestionKind, suggest
from layerscope.analysis.suggest.facts import DockerignoreFacts
from layerscope.dockerfile import parse_dockerfile
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from tests.suggest.shapes import BASE, make_image

GIT_BYTES = (4000, 1000)
MODEL = 2_000_000
"""Over the 1 MiB from which a data file is proposed."""
DOCKERFILE = "FROM debian:bookworm\nCOPY . /app\n"


def _image(later: str | None = None) -> Analysis:
    steps = [
        BASE,
        (
            "COPY . /app # buildkit",
            [
                d("/app"),
                f("/app/.git/objects/a", GIT_BYTES[0]),
                f("/app/.git/HEAD", GIT_BYTES[1]),
                f("/app/model.pt", MODEL),
                f("/app/main.py", 30),
            ],
        ),
    ]
    if later is not None:
        steps.append((f"RUN /bin/sh -c {later} # buildkit", [f("/out", 1)]))
    return make_image("ignore:1", steps)


def test_git_and_a_large_model_file_are_ignored_largest_first() -> None:
    report = suggest(_image(), dockerfile=parse_dockerfile(DOCKERFILE))
    (ignore,) = [s for s in report.suggestions if s.kind is SuggestionKind.DOCKERIGNORE]
    assert ignore.estimated_saving_bytes == sum(GIT_BYTES) + MODEL  # main.py stays
    assert ignore.facts == DockerignoreFacts(("model.pt", ".git"), ("model.pt", ".git"))
    assert ignore.ops[0].kind is OpKind.IGNORE and ignore.ops[0].lines == (".git", "model.pt")
    assert dict(report.patched_files)[".dockerignore"] == ".git\nmodel.pt\n"


def test_an_existing_entry_is_not_added_again() -> None:
    report = suggest(
        _image(), dockerfile=parse_dockerfile(DOCKERFILE), dockerignore="# mine\n.git\n"
    )
    assert dict(report.patched_files)[".dockerignore"] == "# mine\n.git\nmodel.pt\n"


def test_a_file_a_later_step_names_is_kept() -> None:
    analysis = _image(later="python3 load.py /app/model.pt")
    text = DOCKERFILE + "RUN python3 load.py /app/model.pt\n"
    report = suggest(analysis, dockerfile=parse_dockerfile(text))
    (ignore,) = [s for s in report.suggestions if s.kind is SuggestionKind.DOCKERIGNORE]
    assert ignore.estimated_saving_bytes == sum(GIT_BYTES)
    assert isinstance(ignore.facts, DockerignoreFacts) and ignore.facts.patterns == (".git",)
