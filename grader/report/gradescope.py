"""Gradescope's results.json: the top-level score and a short Markdown summary, then one entry per check
numbered "<part>.<check>" (1-based, in the assignment's order) and tagged with its part. Every field is
one Gradescope documents; grader/gradescope/results.schema.json describes exactly what this writes. A check
the assignment marks hidden is shown to students only once the grades are published."""
from __future__ import annotations

import json

from grader.report import place, points
from grader.report.github import diagnosis_title, failed_parts
from grader.report.markdown import code_span, prose
from grader.score import CheckResult, GradeResult


def render(result: GradeResult, **_) -> str:
    return json.dumps(results(result), indent=2, ensure_ascii=False) + "\n"


def results(result: GradeResult) -> dict:
    if result.status == "error":
        return {"score": 0.0, "output": f"**Could not grade the submission:** {prose(result.error or '')}",
                "output_format": "md", "test_output_format": "md", "visibility": "visible", "tests": []}
    tests = []
    for part_number, part in enumerate(result.parts, start=1):
        part_tests = [t for t in result.tests if t.part == part.id]
        for check_number, test in enumerate(part_tests, start=1):
            tests.append({"name": prose(test.name), "number": f"{part_number}.{check_number}",
                          "score": round(test.score, 6), "max_score": round(test.max_score, 6),
                          "status": "passed" if test.status == "passed" else "failed",
                          "visibility": "after_published" if test.hidden else "visible",
                          "output": test_output(test), "tags": [part.id]})
    return {"score": round(result.score, 6), "output": summary(result), "output_format": "md",
            "test_output_format": "md", "visibility": "visible", "tests": tests}


def summary(result: GradeResult) -> str:
    lines = [f"**micrograde: {points(result.score)} / {points(result.max_score)}**", ""]
    broken = failed_parts(result)
    if broken:
        lines.append("To fix, in this order: " + ", ".join(
            f"`{part.id}` ({prose(diagnosis_title(test))})" for part, test in broken) + ".")
    else:
        lines.append("Every check passed.")
    lines.extend(f"> {prose(note)}" for note in result.notes)
    return "\n".join(lines)


def test_output(test: CheckResult) -> str:
    if test.status == "passed":
        return ""
    lines = [prose(test.message), ""]
    for name, value in (("Case", test.case), ("Expected", test.expected), ("Got", test.got),
                        ("Numerical estimate", test.numerical)):
        if value is not None:
            lines.append(f"- {name}: {code_span(_value(value))}")
    if where := place(test):
        lines.append(f"- Where: {code_span(where)}")
    if test.hint:
        lines.extend(["", f"**Hint:** {prose(test.hint)}"])
    return "\n".join(lines).strip()


def _value(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
