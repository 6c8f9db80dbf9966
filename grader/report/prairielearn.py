"""PrairieLearn's external grader results (/grade/results/results.json): `score` in [0, 1], `gradable`,
a message, and one entry per check with its points, the part's title and the teaching feedback.

A submission that could not be read is `"gradable": false` with the reason in `format_errors`:
PrairieLearn then takes no attempt from the student. PrairieLearn accepts at most 1 MB: messages are
bounded, and if the document is still larger the per-check output is left out.
"""
from __future__ import annotations

import json

from grader.report import place, points
from grader.report.sanitize import clean
from grader.score import CheckResult, GradeResult

MAX_BYTES = 1_000_000
FIELD_LIMIT = 4000
# Students see the results: a check the course hides keeps its secret, only its points count.
HIDDEN = "A check the course keeps hidden failed."


def render(result: GradeResult, **_) -> str:
    document = results(result)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    limit = FIELD_LIMIT
    while len(text.encode("utf-8")) > MAX_BYTES:
        # Too large for PrairieLearn: each check's text is cut shorter until the document fits.
        limit //= 2
        for test in document["tests"]:
            test["output"] = ""
            test["message"] = clean(test["message"], limit)
        if limit < 20:
            document["tests"] = document["tests"][: len(document["tests"]) // 2]
        text = json.dumps(document, ensure_ascii=False) + "\n"
    return text


def results(result: GradeResult) -> dict:
    if result.status == "error":
        reason = clean(result.error or "the submission could not be graded", FIELD_LIMIT)
        return {"gradable": False, "score": 0.0, "message": f"Could not grade the submission: {reason}",
                "format_errors": [reason], "tests": []}
    titles = {part.id: part.title for part in result.parts}
    tests = [{"name": clean(test.name, 300), "description": clean(titles.get(test.part, test.part), 300),
              "points": round(test.score, 6), "max_points": round(test.max_score, 6),
              "message": HIDDEN if test.hidden and test.status != "passed" else clean(test.message, FIELD_LIMIT),
              "output": "" if test.hidden else feedback(test)} for test in result.tests]
    fraction = result.score / result.max_score if result.max_score else 0.0
    return {"gradable": True, "score": round(min(1.0, max(0.0, fraction)), 6),
            "message": f"micrograde: {points(result.score)} / {points(result.max_score)}", "tests": tests}


def feedback(test: CheckResult) -> str:
    """The failure's details as plain text lines (PrairieLearn shows `output` preformatted)."""
    if test.status == "passed":
        return ""
    lines = []
    for label, value in (("case", test.case), ("expected", test.expected), ("got", test.got),
                         ("numerical estimate", test.numerical)):
        if value is not None:
            lines.append(f"{label}: {value}")
    if where := place(test):
        lines.append(f"where: {where}")
    if test.hint:
        lines.append(f"hint: {test.hint}")
    return clean("\n".join(lines), FIELD_LIMIT)
