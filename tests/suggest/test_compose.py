"""The composer: suggestions combined on a model of the build (what each step reads and
writes), never as independent line edits that break the build."""

from __future__ import annotations

from dataclasses import replace

from layerscope.analysis.suggest import (
    EstimateBasis,
    Evidence,
    HistoryHints,
    InstructionStats,
    LeftOutReason,
    Op,
    OpKind,
    Suggestion,
    SuggestionKind,
    suggest,
)
from layerscope.analysis.suggest.compose import Files, combine, render_dockerfile
from layerscope.analysis.suggest.facts import CacheKind, CleanupFacts, CleanupFix, ReorderFacts
from layerscope.dockerfile import parse_dockerfile
from layerscope.render.suggest_words import left_out_detail, words
from layerscope.testing.memory import dir_entry as d
from layerscope.testing.memory import file_entry as f
from tests.suggest.shapes import BASE, LISTS, ML_DOCKERFILE, PIP_CACHE, make_image, ml_image


def test_a_cleanup_before_the_step_that_needs_it_is_rejected() -> None:
    # The old, line-edit patch: the list cleanup appended to the update step. The composer
    # checks every combined patch against the dependency graph and leaves it out.
    dockerfile = parse_dockerfile(ML_DOCKERFILE)
    update = next(i for i in dockerfile.instructions if i.arguments == "apt-get update")
    bad = Suggestion(
        id="cleanup-9",
        kind=SuggestionKind.SAME_LAYER_CLEANUP,
        facts=CleanupFacts(
            1,
            (CacheKind.APT_LISTS,),
            1,
            (CleanupFix(CacheKind.APT_LISTS, "rm -rf /var/lib/apt/lists/*"),),
        ),
        layers=(1,),
        instructions=(),
        lines=(),
        evidence=(Evidence("/var/lib/apt/lists/x", LISTS, 1),),
        estimated_saving_bytes=LISTS,
        ops=(Op(OpKind.APPEND, update.index, lines=("rm -rf /var/lib/apt/lists/*",)),),
    )
    combined = combine([bad], Files(dockerfile, None))
    assert combined.applied == ()
    (left,) = combined.left_out
    assert left.reason is LeftOutReason.BREAKS_DEPENDENCY
    assert "apt-get install" in left_out_detail(left) and "apt lists" in left_out_detail(left)
    # the same cleanup at the end of the install step is fine
    install = next(i for i in dockerfile.instructions if "apt-get install" in i.arguments)
    good = replace(bad, ops=(Op(OpKind.APPEND, install.index, lines=bad.ops[0].lines),))
    assert combine([good], Files(dockerfile, None)).applied == ("cleanup-9",)


def test_a_move_that_puts_a_consumer_before_its_producer_is_rejected() -> None:
    dockerfile = parse_dockerfile(ML_DOCKERFILE)
    copy = next(i for i in dockerfile.instructions if i.keyword == "COPY")
    train = next(i for i in dockerfile.instructions if "train.py" in i.arguments)
    names = {"COPY . /app": frozenset({"requirements.txt", "train.py"})}
    move = Suggestion(
        id="reorder-9",
        kind=SuggestionKind.REORDER_FOR_CACHE,
        facts=ReorderFacts("COPY . /app", "COPY", copy.start_line, train.start_line, runs=1),
        layers=(),
        instructions=(),
        lines=(),
        evidence=(),
        estimated_saving_bytes=0,
        ops=(Op(OpKind.MOVE_AFTER, copy.index, target=train.index),),
    )
    combined = combine([move], Files(dockerfile, None, copied=names))
    (left,) = combined.left_out
    assert left.reason is LeftOutReason.BREAKS_DEPENDENCY
    said = left_out_detail(left)
    assert "/app/requirements.txt" in said and "/app/train.py" in said


def test_every_suggestion_left_out_says_why() -> None:
    report = suggest(ml_image(), dockerfile=parse_dockerfile(ML_DOCKERFILE))
    ids = {s.id for s in report.suggestions}
    assert set(report.applied) | {x.id for x in report.left_out} == ids
    assert not set(report.applied) & {x.id for x in report.left_out}


def test_a_suggestion_a_real_build_broke_is_left_out_and_the_rest_kept() -> None:
    dockerfile = parse_dockerfile(ML_DOCKERFILE)
    first = suggest(ml_image(), dockerfile=dockerfile)
    broke = first.applied[0]
    again = suggest(ml_image(), dockerfile=dockerfile, failed={broke: "step 3 exited 100"})
    assert [s.id for s in again.suggestions] == [s.id for s in first.suggestions]
    assert again.applied == tuple(i for i in first.applied if i != broke)
    (left,) = [x for x in again.left_out if x.id == broke]
    assert left.reason is LeftOutReason.BUILD_FAILED and left.detail == "step 3 exited 100"


def test_an_insert_before_a_merged_step_lands_before_the_merged_run() -> None:
    dockerfile = parse_dockerfile(ML_DOCKERFILE)
    at = {i.arguments: i.index for i in dockerfile.instructions}
    train, rm = at["python3 train.py"], at["rm /app/data.csv"]
    ops = [Op(OpKind.MERGE, train, rm), Op(OpKind.INSERT_BEFORE, target=rm, lines=("ENV A=1",))]
    text = render_dockerfile(dockerfile, ops)
    assert text is not None
    assert text.endswith("ENV A=1\nRUN python3 train.py \\\n    && rm /app/data.csv\n")
