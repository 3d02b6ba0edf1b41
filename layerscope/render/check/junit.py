"""`check --format junit`: one test case per rule (fail: <failure>, skip: <skipped>)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from layerscope.analysis.budget import Outcome
from layerscope.render.check.text import suggestion_line
from layerscope.render.check.words import CheckSubject, sentence, show_measured, show_threshold
from layerscope.render.suggest_words import words

__all__ = ["render_check_junit"]


def render_check_junit(subject: CheckSubject) -> str:
    """A JUnit XML report (the Jenkins / GitLab / Surefire dialect)."""
    report = subject.report
    suites = ET.Element("testsuites", name="layerscope check")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"layerscope check {subject.ref}",
        tests=str(len(report.results)),
        failures=str(report.count(Outcome.FAIL)),
        errors="0",
        skipped=str(report.count(Outcome.SKIP)),
        time="0",
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="image_id", value=subject.image_id)
    ET.SubElement(props, "property", name="config", value=subject.config)
    for result in report.results:
        case = ET.SubElement(
            suite, "testcase", name=result.id.value, classname="layerscope.check", time="0"
        )
        text = sentence(result)
        details = [
            f"measured: {show_measured(result)}",
            f"threshold: {show_threshold(result)}",
            f"severity: {result.severity.value}",
        ]
        details += [
            "suggestion: " + suggestion_line(words(s).title, s.estimated_saving_bytes, "")
            for s in result.suggestions
        ]
        if result.outcome is Outcome.FAIL:
            failure = ET.SubElement(case, "failure", message=text, type="budget")
            failure.text = "\n".join([text, *details])
        elif result.outcome is Outcome.SKIP:
            ET.SubElement(case, "skipped", message=text)
        else:
            out = ET.SubElement(case, "system-out")
            prefix = "warning: " if result.outcome is Outcome.WARN else ""
            out.text = "\n".join([prefix + text, *details])
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
