"""JUnit XML for CI systems that show test reports (GitLab, Jenkins, Azure, CircleCI…): one <testsuite>
per part, one <testcase> per check (classname = part, name = check). A wrong number is a <failure>, a
check that could not compare anything (crash, timeout, stub) is an <error>; the message attribute is the
diagnosis and the element text adds the case, the numbers, the hint and the place in the code."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.report import place, points
from grader.report.sanitize import clean
from grader.score import CheckResult, GradeResult

# Characters XML 1.0 cannot carry at all, even escaped; `clean` has already removed the C0/C1 controls.
NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def render(result: GradeResult, **_) -> str:
    root = ET.Element("testsuites", name=f"micrograde {_text(result.submission)}",
                      tests=str(len(result.tests)), failures=str(_count(result.tests, "failed")),
                      errors=str(_count(result.tests, "error") + (result.status == "error")))
    if result.status == "error":
        suite = ET.SubElement(root, "testsuite", name="submission", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="submission", name="load")
        error = ET.SubElement(case, "error", message=_text(result.error or "the submission could not be graded"),
                              type="unreadable")
        error.text = _text(result.error or "")
    for part in result.parts:
        tests = [t for t in result.tests if t.part == part.id]
        if result.status == "error" and not tests:
            continue
        suite = ET.SubElement(root, "testsuite", name=part.id, tests=str(len(tests)),
                              failures=str(_count(tests, "failed")), errors=str(_count(tests, "error")),
                              skipped="0")
        properties = ET.SubElement(suite, "properties")
        for name, value in (("title", part.title), ("score", points(part.score)),
                            ("max_score", points(part.max_score)), ("status", part.status)):
            ET.SubElement(properties, "property", name=name, value=_text(value))
        for test in tests:
            suite.append(testcase(test))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def testcase(test: CheckResult) -> ET.Element:
    case = ET.Element("testcase", classname=test.part, name=test.check)
    if test.status == "passed":
        return case
    tag = "error" if test.status == "error" else "failure"
    element = ET.SubElement(case, tag, message=_text(test.message), type=_text(test.diagnosis or test.status))
    element.text = details(test)
    return case


def details(test: CheckResult) -> str:
    lines = [_text(test.message)]
    for name, value in (("case", test.case), ("expected", test.expected), ("got", test.got),
                        ("numerical estimate", test.numerical)):
        if value is not None:
            lines.append(f"{name}: {_text(value)}")
    if where := place(test):
        lines.append(f"at {_text(where)}")
    if test.hint:
        lines.append(f"hint: {_text(test.hint)}")
    return "\n".join(lines)


def _count(tests: list[CheckResult], status: str) -> int:
    return sum(t.status == status for t in tests)


def _text(value: object) -> str:
    return NOT_XML.sub("", clean(str(value)))
