"""check's words: one entry per rule id, and the sentences every format shares."""

from __future__ import annotations

from layerscope.analysis.budget import (
    Baseline,
    BuildRef,
    Detail,
    ForbiddenHit,
    Note,
    Outcome,
    RuleResult,
)
from layerscope.analysis.rules import RuleId, Severity, ThresholdKind
from layerscope.render.check.words import (
    RULE_WORDS,
    baseline_label,
    build_label,
    sentence,
    show_measured,
    show_threshold,
)


def _result(rule: RuleId, kind: ThresholdKind, outcome: Outcome, **kw: object) -> RuleResult:
    fields: dict[str, object] = {
        "maximum": True,
        "severity": Severity.ERROR,
        "enabled": True,
        "threshold": None,
        "measured": None,
    }
    fields.update(kw)
    return RuleResult(id=rule, kind=kind, outcome=outcome, **fields)  # type: ignore[arg-type]


def test_every_rule_has_words() -> None:
    assert set(RULE_WORDS) == set(RuleId)
    assert all(words.summary for words in RULE_WORDS.values())


def test_a_number_against_a_limit() -> None:
    result = _result(
        RuleId.MAX_LAYER_SIZE,
        ThresholdKind.BYTES,
        Outcome.FAIL,
        threshold=600_000,
        measured=1_250_000,
        layer_index=2,
        detail=Detail.LARGEST_LAYER,
    )
    assert sentence(result) == (
        "Largest single layer (layer 2) is 1.2 MB, which is above the maximum of 600.0 kB."
    )
    minimum = _result(
        RuleId.MIN_EFFICIENCY,
        ThresholdKind.RATIO,
        Outcome.PASS,
        maximum=False,
        threshold=0.9,
        measured=0.95,
    )
    assert sentence(minimum) == (
        "Dive's image efficiency score is 95.00 %, which meets the minimum of 90.00 %."
    )


def test_growth_shows_its_sign_and_the_baseline() -> None:
    shrunk = _result(
        RuleId.MAX_GROWTH_BYTES,
        ThresholdKind.BYTES,
        Outcome.PASS,
        threshold=0,
        measured=-1500,
        baseline=Baseline("old:1", "ref", 4000, None, 2),
    )
    assert show_measured(shrunk) == "-1.5 kB"
    assert sentence(shrunk) == (
        "Size growth versus the baseline (old:1, 4.0 kB) is -1.5 kB, which is within the "
        "maximum of 0 B."
    )
    grown = _result(RuleId.MAX_GROWTH_RATIO, ThresholdKind.RATIO, Outcome.FAIL, measured=0.25)
    assert show_measured(grown) == "+25.00 %"


def test_paths_labels_and_dives_special_ratios() -> None:
    hits = (
        ForbiddenHit("/a/.git/x", "**/.git/**", 1, True),
        ForbiddenHit("/a/.git/x", "", 3, True),
    )
    forbidden = _result(
        RuleId.FORBIDDEN_PATHS,
        ThresholdKind.PATTERNS,
        Outcome.FAIL,
        threshold=("**/.git/**",),
        measured=2,
        forbidden=hits,
    )
    assert show_measured(forbidden) == "2 paths"
    assert sentence(forbidden) == "1 forbidden path ship in the image: /a/.git/x (layers 1, 3)."
    labels = _result(
        RuleId.REQUIRED_LABELS, ThresholdKind.NAMES, Outcome.FAIL, threshold=("a", "b"),
        measured=("b",),
    )  # fmt: skip
    assert (show_measured(labels), show_threshold(labels)) == ("1 missing", "a, b")
    assert sentence(labels) == "Missing required label: b."
    nan = _result(
        RuleId.MAX_USER_WASTED_RATIO, ThresholdKind.RATIO, Outcome.PASS, note=Note.UNDEFINED
    )
    assert show_measured(nan) == "undefined"
    assert (
        sentence(nan)
        == "No user layer bytes and nothing wasted: dive's ratio is NaN, which passes."
    )
    skipped = _result(RuleId.MAX_SIZE, ThresholdKind.BYTES, Outcome.SKIP, note=Note.NO_BASELINE)
    assert sentence(skipped) == "no baseline: give --baseline REF|FILE.json or --baseline last."


def test_a_recorded_build_is_named_by_render() -> None:
    build = BuildRef("app", "1.2", "sha256:0123456789abcdef" + "0" * 48, "2026-01-02T03:04:05Z")
    assert build_label(build) == (
        "previous build app:1.2 sha256:0123456789ab, created 2026-01-02T03:04:05Z"
    )
    untagged = BuildRef("app", None, "sha256:" + "f" * 64, None)
    assert build_label(untagged) == "previous build app sha256:ffffffffffff"
    recorded = Baseline("app:1.2", "store", 10, None, 1, build)
    assert baseline_label(recorded) == build_label(build)
    assert baseline_label(Baseline("old.json", "json", 10, None, 1)) == "old.json"
