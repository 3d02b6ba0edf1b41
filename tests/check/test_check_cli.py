"""`layerscope check` end to end: config precedence and errors, rules, outputs, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from junitparser import Failure, JUnitXml, Skipped

from .checkkit import DEMO, SHARED, Run, run_check

APP_RULES = """\
[rules]
max_size = "1MB"
max_layers = { threshold = 3, severity = "warning" }
[rules.forbidden_paths]
threshold = ["**/.git/**", "*.pem", "**/id_rsa"]
[rules.required_labels]
threshold = ["org.opencontainers.image.source", "org.opencontainers.image.version"]
"""


DEMO_DOCKERFILE = """\
FROM debian:bookworm-slim
ENV PYTHONDONTWRITEBYTECODE=1
ENV LANG=C.UTF-8
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip
WORKDIR /app
COPY requirements.txt /app/
RUN pip install -r requirements.txt
RUN curl -fsSLo /tmp/model.tar.gz https://example.com/models/model.tar.gz
COPY . /app
RUN tar -xzf /tmp/model.tar.gz -C /opt/model && rm /tmp/model.tar.gz
RUN chmod -R g+w /app
ENV FLASK_APP=app.py
EXPOSE 8000
CMD ["python3", "app.py"]
"""


def _json(run: Run) -> dict[str, dict[str, object]]:
    assert run.out.startswith("{"), run.err
    return {r["id"]: r for r in json.loads(run.out)["rules"]}


# -- configuration ---------------------------------------------------------------------------


def test_precedence(tmp_path: Path, images: dict[str, Path]) -> None:
    app = str(images["app-with-git"])
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: 0.1\n")
    rules = _json(run_check([app, "--json"], cwd=tmp_path))
    assert rules["min_efficiency"]["threshold"] == 0.1  # .dive-ci
    (tmp_path / "pyproject.toml").write_text("[tool.layerscope.rules]\nmin_efficiency = 0.2\n")
    assert _json(run_check([app, "--json"], cwd=tmp_path))["min_efficiency"]["threshold"] == 0.2
    (tmp_path / ".layerscope.toml").write_text("[rules]\nmin_efficiency = 0.3\n")
    assert _json(run_check([app, "--json"], cwd=tmp_path))["min_efficiency"]["threshold"] == 0.3
    (tmp_path / "other.toml").write_text("[rules]\nmin_efficiency = 0.4\n")
    run = run_check([app, "--json", "--config", "other.toml"], cwd=tmp_path)
    assert _json(run)["min_efficiency"]["threshold"] == 0.4
    run = run_check(
        [app, "--json", "--config", "other.toml", "--rule", "min_efficiency=0.5"], cwd=tmp_path
    )
    assert _json(run)["min_efficiency"]["threshold"] == 0.5


def test_no_config_is_dives_defaults(tmp_path: Path, images: dict[str, Path]) -> None:
    rules = _json(run_check([str(images["app-with-git"]), "--json"], cwd=tmp_path))
    assert rules["min_efficiency"]["threshold"] == 0.9
    assert rules["max_user_wasted_ratio"]["threshold"] == 0.1
    assert rules["max_wasted_bytes"]["status"] == "skip"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[rules]\nmax_size = 1\nbogus = 2\n",
            ".layerscope.toml line 3: rules.bogus: unknown rule",
        ),
        ("[rules.max_layers]\nthreshold = 3\nsevrity = 'x'\n", "line 3: rules.max_layers.sevrity"),
        ("colour = 1\n", ".layerscope.toml line 1: colour: unknown key"),
        ("[rules]\nmax_size = 'lots'\n", "line 2: rules.max_size: not a size"),
        ("[rules]\nmin_efficiency = 1.5\n", "line 2: rules.min_efficiency: must be between"),
        ("[rules]\nmax_size = \n", "line 2, column 12"),
    ],
)
def test_bad_config_names_key_and_line(
    text: str, message: str, tmp_path: Path, images: dict[str, Path]
) -> None:
    (tmp_path / ".layerscope.toml").write_text(text)
    run = run_check([str(images["one-layer"])], cwd=tmp_path)
    assert run.code == 2
    assert message in run.err


# -- rules -------------------------------------------------------------------------------------


def test_forbidden_paths_and_labels(tmp_path: Path, images: dict[str, Path]) -> None:
    (tmp_path / ".layerscope.toml").write_text(APP_RULES)
    run = run_check([str(images["app-with-git"]), "--json"], cwd=tmp_path)
    assert run.code == 1
    rules = _json(run)
    paths = {p["path"] for p in rules["forbidden_paths"]["paths"]}  # type: ignore[union-attr]
    assert paths == {"/app/.git/config", "/app/.git/HEAD", "/app/certs/server.pem"}
    assert rules["forbidden_paths"]["status"] == "fail"
    assert rules["required_labels"]["measured"] == ["org.opencontainers.image.version"]
    # 30000 + 12 + 7 + 21 + 16 + 20000 = 50056 bytes, far below 1 MB; 3 layers is not above 3
    assert rules["max_size"]["measured"] == 50056 and rules["max_size"]["status"] == "pass"
    assert rules["max_layers"]["status"] == "pass"


def test_growth_against_a_recorded_build(tmp_path: Path, images: dict[str, Path]) -> None:
    store = str(tmp_path / "history.db")
    recorded = run_check(
        [str(images["app-with-git"]), "--store", store, "--disable", "min_efficiency"],
        cwd=tmp_path,
    )
    assert recorded.code == 1  # user-wasted ratio still fails; the build is recorded anyway
    rules = ["--rule", "max_growth_bytes=100kB", "--rule", "max_growth_ratio=150%"]
    rules += ["--rule", "min_cache_hit_ratio=0.9"]
    run = run_check(
        [str(images["app-grown"]), "--json", "--store", store, "--baseline", "last", *rules],
        cwd=tmp_path,
    )
    got = _json(run)
    # 150056 - 50056 = 100000 bytes: not above 100 kB (strict); 100000 / 50056 = 1.9977 > 1.5
    assert got["max_growth_bytes"]["measured"] == 100000
    assert got["max_growth_bytes"]["status"] == "pass"
    assert got["max_growth_ratio"]["measured"] == pytest.approx(100000 / 50056)
    assert got["max_growth_ratio"]["status"] == "fail"
    # 3 of 4 layers have the chain IDs of the previous build: 0.75 < 0.9
    assert got["min_cache_hit_ratio"]["measured"] == 0.75
    assert got["min_cache_hit_ratio"]["status"] == "fail"
    label = got["max_growth_bytes"]["baseline"]["label"]  # type: ignore[index]
    assert isinstance(label, str) and label.startswith("previous build ")
    assert got["min_cache_hit_ratio"]["previous_build"] == label
    assert f"({label}, 50.1 kB)" in got["max_growth_bytes"]["message"]  # type: ignore[operator]
    assert run.code == 1


def test_growth_against_a_reference_and_an_export(tmp_path: Path, images: dict[str, Path]) -> None:
    old, new = str(images["app-with-git"]), str(images["app-grown"])
    rules = ["--rule", "max_growth_bytes=99999", "--disable", "min_efficiency"]
    rules += ["--disable", "max_user_wasted_ratio"]
    run = run_check([new, "--json", "--baseline", old, *rules], cwd=tmp_path)
    assert _json(run)["max_growth_bytes"]["status"] == "fail" and run.code == 1
    from layerscope.cli import main

    export = tmp_path / "old.json"
    assert main(["inspect", old, "--json", "--output", str(export), "--no-cache"]) == 0
    run = run_check([new, "--json", "--baseline", str(export), *rules], cwd=tmp_path)
    assert _json(run)["max_growth_bytes"]["measured"] == 100000
    run = run_check([old, "--json", "--baseline", str(export), *rules], cwd=tmp_path)
    assert _json(run)["max_growth_bytes"]["measured"] == 0 and run.code == 0


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (
            "{not json",
            " (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        ),
        ('{"schema_version": 1}', " ('image')"),
        ('{"schema_version": 1, "image": {"size_bytes": "big", "layer_count": 2}}', ""),
        ('{"image": {"size_bytes": 1, "layer_count": 2}}', ""),
        (b"\xff\xfe", None),
    ],
)
def test_a_bad_baseline_export_is_one_line_and_exit_2(
    tmp_path: Path, images: dict[str, Path], content: str | bytes, why: str | None
) -> None:
    export = tmp_path / "old.json"
    if isinstance(content, bytes):
        export.write_bytes(content)
    else:
        export.write_text(content)
    run = run_check([str(images["app-grown"]), "--baseline", str(export)], cwd=tmp_path)
    assert run.code == 2 and run.out == ""
    (line,) = run.err.splitlines()
    prefix = f"--baseline {export}: not a `layerscope inspect --json` export"
    if why is None:  # not UTF-8: the decoder's words
        assert line.startswith(f"layerscope: error: {prefix} (") and "utf-8" in line, line
    else:
        assert line == f"layerscope: error: {prefix}{why}"


# -- outputs and exit codes ----------------------------------------------------------------------


def test_junit_is_read_by_junitparser(tmp_path: Path) -> None:
    out = tmp_path / "report.xml"
    run = run_check([str(DEMO), "--format", "junit", "--output", str(out)], cwd=tmp_path)
    assert run.code == 1
    suite = next(iter(JUnitXml.fromfile(str(out))))
    cases = {case.name: case for case in suite}
    assert len(cases) == 14 and suite.tests == 14
    assert isinstance(cases["min_efficiency"].result[0], Failure)
    assert isinstance(cases["max_size"].result[0], Skipped)
    assert cases["max_user_wasted_ratio"].is_passed is False


def test_sarif_validates(tmp_path: Path) -> None:
    schema = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DEMO_DOCKERFILE)
    run = run_check([str(DEMO), "--format", "sarif", "--dockerfile", "Dockerfile"], cwd=tmp_path)
    doc = json.loads(run.out)
    jsonschema.validate(doc, schema)
    notes = [r for r in doc["runs"][0]["results"] if r["level"] == "note"]
    assert notes and any("locations" in r for r in notes)


def test_github_env(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    run = run_check([str(DEMO)], cwd=tmp_path, env=env)
    assert run.code == 1
    assert "::error title=layerscope check%3A min_efficiency::" in run.out
    text = summary.read_text()
    assert text.startswith("earlier\n## layerscope check: ")
    assert "| `min_efficiency` | ❌ FAIL |" in text


def test_exit_codes(tmp_path: Path, images: dict[str, Path]) -> None:
    assert run_check([str(images["one-layer"])], cwd=tmp_path).code == 0
    assert run_check([str(DEMO)], cwd=tmp_path).code == 1
    assert (
        run_check(
            [str(DEMO), "--warn-only", "min_efficiency", "--warn-only", "max_user_wasted_ratio"],
            cwd=tmp_path,
        ).code
        == 0
    )
    assert run_check([str(tmp_path / "missing.tar")], cwd=tmp_path).code == 2
    assert run_check([str(DEMO), "--rule", "nope=1"], cwd=tmp_path).code == 2
    run = run_check(["registry://127.0.0.1:9/app:1"], cwd=tmp_path)
    assert run.code == 3, run.err


def test_sarif_paths_are_relative_and_every_result_has_a_location(tmp_path: Path) -> None:
    """GitHub code scanning maps repository-relative paths: an absolute --dockerfile is made
    relative to the current directory; without a Dockerfile the image is the location."""
    schema = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    (tmp_path / "build").mkdir()
    dockerfile = tmp_path / "build" / "Dockerfile"
    dockerfile.write_text(DEMO_DOCKERFILE)
    run = run_check([str(DEMO), "--format", "sarif", "-f", str(dockerfile)], cwd=tmp_path)
    doc = json.loads(run.out)
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in results
        for loc in r.get("locations", [])
        if "physicalLocation" in loc
    }
    assert uris == {"build/Dockerfile"}
    assert all(r.get("locations") for r in results)
    failed = [r for r in results if r["level"] == "error"]
    assert failed and all("physicalLocation" in r["locations"][0] for r in failed)
    # no Dockerfile: every result is located at the image (a logical location)
    run = run_check([str(DEMO), "--format", "sarif"], cwd=tmp_path)
    doc = json.loads(run.out)
    jsonschema.validate(doc, schema)
    for result in doc["runs"][0]["results"]:
        (location,) = result["locations"]
        assert location["logicalLocations"][0]["fullyQualifiedName"] == str(DEMO)


def test_github_annotations_put_failing_rules_at_the_dockerfile(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DEMO_DOCKERFILE)
    run = run_check([str(DEMO), "--format", "github", "-f", str(dockerfile)], cwd=tmp_path)
    assert run.code == 1
    errors = [line for line in run.out.splitlines() if line.startswith("::error ")]
    assert errors and all(line.startswith("::error file=Dockerfile,line=") for line in errors)
    sarif = json.loads(
        run_check([str(DEMO), "--format", "sarif", "-f", "Dockerfile"], cwd=tmp_path).out
    )
    # the same line SARIF gives each failing rule
    for result in (r for r in sarif["runs"][0]["results"] if r["level"] == "error"):
        line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
        title = f"title=layerscope check%3A {result['ruleId']}"
        assert any(f"line={line}," in e and title in e for e in errors), (result, errors)


def test_budget_line_names_the_flags_and_last_without_an_earlier_build(tmp_path: Path) -> None:
    """--rule on the command line is not "dive's defaults"; baseline = "last" with nothing
    recorded before says so instead of asking for --baseline."""
    store = ["--store", str(tmp_path / "history.sqlite3")]
    run = run_check([str(DEMO), "--rule", "max_layers=3", *store], cwd=tmp_path)
    budget = next(line for line in run.out.splitlines() if line.startswith("  budget:"))
    assert budget.startswith("  budget: --rule over dive's defaults"), budget
    (tmp_path / ".layerscope.toml").write_text(
        'baseline = "last"\n[rules]\nmax_growth_bytes = "25MB"\n'
    )
    run = run_check([str(DEMO), "--json", *store], cwd=tmp_path)
    rule = next(r for r in json.loads(run.out)["rules"] if r["id"] == "max_growth_bytes")
    assert (rule["status"], rule["note"]) == ("skip", "no_previous_build"), rule
    run = run_check([str(DEMO), "--disable", "min_efficiency", *store], cwd=tmp_path)
    assert "max_growth_bytes: no previous build of this repository is recorded." in run.out
    assert "give --baseline" not in run.out
    assert "  budget: --disable over .layerscope.toml" in run.out
