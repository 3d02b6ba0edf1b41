"""``layerscope check REF``: the CI size budget (dive's `.dive-ci` too)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .common import (
    REF_HELP,
    Background,
    SourceSession,
    Streams,
    add_output_options,
    add_source_options,
    add_store_option,
    emit,
    read_dockerfile,
    sources_for,
    text_width,
    use_color,
)
from .recording import HistoryAccess
from .settings import SourceSettings

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..analysis import Analysis
    from ..analysis.budget import Baseline, BudgetReport, BuildRef, CacheComparison
    from ..analysis.rules import RuleId, RuleSettings
    from ..budget_config import BudgetConfig
    from ..dockerfile import Dockerfile
    from ..model import BuildRecord, Image
    from ..render.check import CheckRenderer, CheckSubject

FORMATS = ("text", "json", "junit", "sarif", "markdown", "github")
DIVE_FLAGS = ("lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``check``."""
    parser = sub.add_parser(
        "check",
        help="check an image against a size budget (CI); reads dive's .dive-ci too",
        description=(
            "Check one image against a size budget: total and per-layer size, layer count, "
            "dive's efficiency and wasted bytes, reclaimable bytes, growth versus a baseline, "
            "cache hits versus the previous build, forbidden paths, required labels. The "
            "budget comes from flags, then --config FILE, then .layerscope.toml, then "
            "[tool.layerscope] in pyproject.toml, then dive's .dive-ci; with none, dive's "
            "defaults apply. Exit 0: passed (warnings allowed); 1: a budget failed; 2: bad "
            "configuration or input; 3: source unavailable."
        ),
    )
    parser.add_argument("ref", metavar="REF", help=REF_HELP)
    parser.add_argument(
        "--config",
        "--ci-config",
        dest="config",
        metavar="FILE",
        help="budget file: TOML (layerscope), or YAML read as dive's .dive-ci",
    )
    parser.add_argument(
        "--dockerfile",
        "-f",
        metavar="FILE",
        help="the Dockerfile: suggestions and SARIF locations",
    )
    parser.add_argument(
        "--baseline",
        metavar="REF|FILE.json|last",
        help="what the growth rules compare with: another image, a `layerscope inspect --json` "
        "export, or 'last' (the previous recorded build of the same repository)",
    )
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a rule's threshold and turn it on, e.g. max_size=250MB, "
        "forbidden_paths='**/.git/**,**/*.pem' (repeatable)",
    )
    parser.add_argument(
        "--disable", action="append", default=[], metavar="NAME", help="turn a rule off"
    )
    parser.add_argument(
        "--warn-only",
        action="append",
        default=[],
        metavar="NAME",
        help="a broken rule only warns (severity warning)",
    )
    for flag in DIVE_FLAGS:
        parser.add_argument(
            f"--{flag}", dest=flag, metavar="VALUE", help=f"dive's --{flag} (dive's semantics)"
        )
    add_output_options(parser, FORMATS)
    add_source_options(parser)
    add_store_option(parser)


def run(args: argparse.Namespace, streams: Streams, background: Background) -> int:
    """Load the budget, the image and the baseline; evaluate; print; 0 pass, 1 fail."""
    from ..analysis import analyze
    from ..analysis.budget import Outcome, evaluate_budget
    from ..budget_config import load_budget_config

    config = load_budget_config(
        config=args.config,
        dive_flags={flag: getattr(args, flag) for flag in DIVE_FLAGS},
        rules=args.rule,
        disable=args.disable,
        warn_only=args.warn_only,
    )
    dockerfile_path = args.dockerfile or config.dockerfile
    dockerfile, dockerignore = _read_dockerfile(dockerfile_path)
    baseline_spec = args.baseline or config.baseline
    with sources_for(SourceSettings.from_args(args), streams, background) as sources:
        image = sources.load(args.ref)
        baseline = None
        if baseline_spec and baseline_spec != "last":
            baseline = _baseline_from(baseline_spec, sources)
    analysis = analyze(image)
    # the "last" baseline needs the history: an unavailable store is exit 3, as for any service
    history = HistoryAccess(args.store)
    history.record(image, streams.err, ref=args.ref, required=baseline_spec == "last")
    previous, cache = _history(history.builds(image, args.ref), image)
    if baseline_spec == "last" and previous is not None:
        baseline = _baseline_of_build(previous)
    settings = config.settings()
    report = evaluate_budget(analysis, settings, baseline=baseline, cache=cache)
    if any(r.outcome in (Outcome.FAIL, Outcome.WARN) for r in report.results):
        report = _with_suggestions(
            analysis, settings, report, baseline, cache, dockerfile, dockerignore
        )
    if baseline_spec == "last" and baseline is None:
        report = _no_earlier_build(report)
    _output(args, streams, image, config_label(config, _flags_given(args)), report, dockerfile_path)
    return 0 if report.passed else 1


def config_label(config: BudgetConfig, flags: Sequence[str] = ()) -> str:
    """Where the budget came from, for a person: the ``flags`` given (``--rule`` …), over the
    file found, else over dive's defaults."""
    source = config.source
    if source.kind == "defaults":
        base = "dive's defaults (no .layerscope.toml, [tool.layerscope] or .dive-ci found)"
    elif source.kind == "dive":
        base = f"{source.path} (dive 0.13.1 rules)"
    else:
        base = str(source.path)
    return f"{', '.join(flags)} over {base}" if flags else base


def _flags_given(args: argparse.Namespace) -> list[str]:
    """The budget flags on the command line, each named once, in a stable order."""
    names = [f"--{flag}" for flag in DIVE_FLAGS if getattr(args, flag) is not None]
    names += [name for name, given in (("--rule", args.rule), ("--disable", args.disable),
                                       ("--warn-only", args.warn_only)) if given]  # fmt: skip
    return names


def _no_earlier_build(report: BudgetReport) -> BudgetReport:
    """``baseline = "last"`` with nothing recorded before: say so, not "give --baseline"."""
    from ..analysis.budget import Note

    return dataclasses.replace(
        report,
        results=tuple(
            dataclasses.replace(r, note=Note.NO_PREVIOUS_BUILD) if r.note is Note.NO_BASELINE else r
            for r in report.results
        ),
    )


def _read_dockerfile(path: str | None) -> tuple[Dockerfile | None, str | None]:
    """The Dockerfile and the .dockerignore beside it (best effort: it only refines
    suggestions)."""
    if not path:
        return None, None
    dockerfile = read_dockerfile(path)
    ignore = Path(path).parent / ".dockerignore"
    try:
        ignore_text = ignore.read_text(encoding="utf-8") if ignore.is_file() else None
    except (OSError, UnicodeDecodeError):
        ignore_text = None
    return dockerfile, ignore_text


def _baseline_from(spec: str, sources: SourceSession) -> Baseline:
    """A baseline from a JSON export (an existing *.json file) or an image reference."""
    from ..analysis.budget import Baseline
    from ..errors import UsageError
    from ..render.json import read_image_totals

    if spec.endswith(".json") and Path(spec).is_file():
        try:
            totals = read_image_totals(Path(spec).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not an inspect document
            why = f" ({exc})" if str(exc) else ""
            raise UsageError(
                f"--baseline {spec}: not a `layerscope inspect --json` export{why}"
            ) from exc
        size, compressed = totals.size_bytes, totals.compressed_size_bytes
        return Baseline(spec, "json", size, compressed, totals.layer_count)
    image = sources.load(spec, progress=None)
    return Baseline(spec, "ref", image.size_bytes, image.compressed_size_bytes, len(image.layers))


def _baseline_of_build(build: BuildRecord) -> Baseline:
    from ..analysis.budget import Baseline

    name = build.repository + (f":{build.tag}" if build.tag else "")
    size, compressed = build.size_bytes, build.compressed_size_bytes
    return Baseline(name, "store", size, compressed, len(build.layers), _build_ref(build))


def _build_ref(build: BuildRecord) -> BuildRef:
    from ..analysis.budget import BuildRef

    return BuildRef(build.repository, build.tag, build.image_id, build.created)


def _history(
    builds: Sequence[BuildRecord], image: Image
) -> tuple[BuildRecord | None, CacheComparison | None]:
    """The previous recorded build of the image's repository and the cache hits against it."""
    from ..analysis.budget import CacheComparison
    from ..analysis.cache import cache_history

    history = cache_history(builds)
    for position, entry in enumerate(history.builds):
        if entry.build.image_id == image.image_id and position > 0:
            previous = history.builds[position - 1].build
            hits = entry.hit_count or 0
            cache = CacheComparison(
                _build_ref(previous), hits, len(entry.build.layers), entry.hit_ratio
            )
            return previous, cache
    return None, None


def _with_suggestions(
    analysis: Analysis,
    settings: Mapping[RuleId, RuleSettings],
    report: BudgetReport,
    baseline: Baseline | None,
    cache: CacheComparison | None,
    dockerfile: Dockerfile | None,
    dockerignore: str | None,
) -> BudgetReport:
    from ..analysis.budget import evaluate_budget
    from ..analysis.suggest import suggest

    found = suggest(analysis, dockerfile=dockerfile, dockerignore=dockerignore)
    return evaluate_budget(
        analysis,
        settings,
        baseline=baseline,
        cache=cache,
        suggestions=found.suggestions,
    )


def _output(
    args: argparse.Namespace,
    streams: Streams,
    image: Image,
    config: str,
    report: BudgetReport,
    dockerfile: str | None,
) -> None:
    from ..render.check import CheckSubject

    shown = Path(os.path.relpath(os.path.abspath(dockerfile))).as_posix() if dockerfile else None
    subject = CheckSubject(args.ref, image.image_id, config, report, shown)
    fmt = args.format or "text"
    text = render(subject, fmt, out=streams.out, to_file=bool(args.output))
    if fmt == "text" and os.environ.get("GITHUB_ACTIONS") == "true":
        text += render(subject, "github")
    emit(text, args.output, streams.out)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        from ..errors import UsageError

        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(render(subject, "markdown") + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write $GITHUB_STEP_SUMMARY {summary}: {exc}") from exc


def renderers() -> dict[str, CheckRenderer]:
    """The one table of check's output formats (imported when a report is written, not when
    the CLI starts); FORMATS lists the same names for the parser."""
    from ..render.check import github, json, junit, markdown, sarif, text

    return {
        "text": text.render_check_text,
        "json": lambda subject, *, width, color: json.render_check_json(subject),
        "junit": lambda subject, *, width, color: junit.render_check_junit(subject),
        "sarif": lambda subject, *, width, color: sarif.render_check_sarif(subject),
        "markdown": lambda subject, *, width, color: markdown.render_check_markdown(subject),
        "github": lambda subject, *, width, color: github.render_check_github(subject),
    }


def render(
    subject: CheckSubject, fmt: str, *, out: IO[str] | None = None, to_file: bool = False
) -> str:
    """The report in one of FORMATS (text: wrapped to ``out``'s width, coloured on a terminal)."""
    color = False
    width = text_width(sys.stdout, to_file=True)  # a file: $COLUMNS, else never wrapped
    if out is not None and not to_file:
        color = use_color(out)
        width = text_width(out)
    return renderers()[fmt](subject, width=width, color=color)
