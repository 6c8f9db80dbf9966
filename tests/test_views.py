"""Every diagnosis through every view, from the same findings: each report format, the notebook's report
object and the class dashboard render a finding's fields, never a sentence taken apart again."""
from __future__ import annotations

import json

import pytest

from grader.assignment import load_assignment
from grader.batch.dashboard import report_page
from grader.batch.summary import common_diagnoses, rows
from grader.findings import Cause, Finding, Location
from grader.judge.diagnoses import CATALOGUE
from grader.report import available, render
from grader.score import score
from micrograde.notebook import Report

ASSIGNMENT = load_assignment()
PART = "mul"
WHERE = Location("micrograd/engine.py", 42, missing=False)
MESSAGE = "`a * b @ 1.5, -2` with out.grad = 1.7: a.grad = 0, expected -3.4."
MARKER = "a.grad = 0, expected -3.4"  # a run of the message that no format escapes


def finding(code: str, **fields) -> Finding:
    return Finding(code, MESSAGE, case="a * b @ 1.5, -2", expected=-3.4, got=0.0, where=WHERE,
                   cause=Cause(op=PART, used="other.grad", expected="other.data", input="a"), **fields)


def graded(found: Finding):
    """The assignment's result when one check of mul has `found` and every other check passes."""
    checks = [{"outcome": "passed", "metadata": {"part": part.id, "check": "test_forward", "doc": "forward"}}
              for part in ASSIGNMENT.parts]
    checks.append({"outcome": "failed", "metadata": {"part": PART, "check": "test_gradient", "doc": "gradient",
                                                     "finding": found}})
    return score("student", checks, ASSIGNMENT)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_diagnosis_reads_the_same_in_every_view(code: str) -> None:
    result = graded(finding(code, built_on=("add",) if code == "built_on_broken" else ()))
    part = next(p for p in result.parts if p.id == PART)
    assert part.diagnosis == code
    shown = 0
    for name in available():
        text = render(result, name, env={})
        if code == "not_started" and name != "json":
            # A part not started is one line: it says what to do, not what a check found.
            assert "not started" in text.lower() or "not_started" in text, name
            continue
        if code == "built_on_broken" and name == "text":
            assert "fix add first" in text
            continue
        assert MARKER in text, name
        shown += 1
    assert shown >= (1 if code == "not_started" else len(available()) - 1)
    data = json.loads(render(result, "json"))
    test = next(t for t in data["tests"] if t["status"] != "passed")
    assert (test["diagnosis"], test["file"], test["line"]) == (code, WHERE.file, WHERE.line)
    assert test["cause"] == {"op": PART, "used": "other.grad", "expected": "other.data", "input": "a"}
    assert test["points_lost"] == test["max_score"] > 0
    assert test["severity"] == ("error" if CATALOGUE[code].error else "failure")


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_the_notebook_and_the_dashboard_show_the_same_finding(code: str) -> None:
    found = finding(code)
    result = graded(found)
    report = Report(result)
    if code != "not_started":
        assert MARKER in report._repr_html_()
        assert MARKER in repr(report)
    data = result.to_json()
    table = rows({"student": data}, ASSIGNMENT)
    page = report_page("student", data, table[0])
    assert MARKER in page and "micrograd/engine.py" in page
    diagnoses = common_diagnoses({"student": data}, ASSIGNMENT)
    if code not in ("not_started", "built_on_broken"):
        assert (code, PART, ["student"]) in diagnoses


def test_a_missing_statement_says_so_where_it_belongs() -> None:
    found = finding("returns_none").at(Location("micrograd/engine.py", 30, missing=True))
    result = graded(found)
    for name in ("text", "markdown", "html", "gradescope", "junit", "prairielearn"):
        assert "micrograd/engine.py:30 (where the missing code belongs)" in render(result, name), name


def test_a_bug_that_breaks_training_costs_its_whole_part_and_a_partial_one_does_not() -> None:
    whole = next(p for p in graded(finding("overwrite")).parts if p.id == PART)
    partial = next(p for p in graded(finding("no_plain_number")).parts if p.id == PART)
    assert whole.score == 0.0
    assert 0.0 < partial.score < partial.max_score


def test_every_view_and_the_gradebook_show_the_same_rounded_score() -> None:
    from grader.batch.summary import gradebook_csv, table_text

    checks = [{"outcome": "passed", "metadata": {"part": part.id, "check": "test_forward", "doc": "forward"}}
              for part in ASSIGNMENT.parts]
    checks += [{"outcome": "passed", "metadata": {"part": PART, "check": "test_connected", "doc": "connected"}},
               {"outcome": "failed", "metadata": {"part": PART, "check": "test_plain_numbers", "doc": "numbers",
                                                  "finding": finding("no_plain_number")}}]
    result = score("student", checks, ASSIGNMENT)
    exact = result.score
    assert round(exact, 2) != exact  # a share of a part's checks: more decimals than anyone reads
    shown = f"{round(exact, 2):.2f}"
    data = result.to_json()
    table = rows({"student": data}, ASSIGNMENT)
    assert f",{shown}," in gradebook_csv(table, ASSIGNMENT).replace("\r\n", "\n")
    assert f"{shown} / 100" in table_text(table)
    for name in ("text", "markdown", "html", "prairielearn"):
        text = render(result, name)
        assert shown in text and f"{exact:.4f}" not in text, name
    assert shown in report_page("student", data, table[0])
