"""PrairieLearn's results.json (validated against tests/schemas/prairielearn-results.schema.json, at most
1 MB) and Canvas's gradebook import file (the columns of Canvas's import guide, tests/schemas/)."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from grader.assignment import load_assignment
from grader.batch.policy import Policy
from grader.batch.summary import Row, canvas_csv
from grader.report import render
from grader.report.prairielearn import MAX_BYTES
from grader.score import score

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "prairielearn-results.schema.json").read_text())


def validate(text: str) -> dict:
    assert len(text.encode("utf-8")) <= MAX_BYTES
    document = json.loads(text)
    jsonschema.validate(document, SCHEMA)
    return document


def test_the_schema_is_really_checking():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gradable": True, "score": 1.5}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gradable": True}, SCHEMA)


def test_prairielearn_results_of_a_buggy_submission():
    done = subprocess.run([sys.executable, "-m", "grader", "check", str(ROOT / "examples" / "bob"), "--format",
                           "prairielearn"], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 1, done.stderr
    results = validate(done.stdout)
    assert results["gradable"] is True and 0 < results["score"] < 1
    assert abs(results["score"] * 100 - sum(t["points"] for t in results["tests"])) < 1e-3
    failing = [t for t in results["tests"] if t["points"] < t["max_points"]]
    assert failing and any("hint:" in t["output"] and "where: micrograd/engine.py:" in t["output"] for t in failing)


def test_an_unreadable_submission_is_not_gradable():
    results = validate(render(score("x", [], load_assignment(), error="x holds no micrograd/"), "prairielearn"))
    assert results["gradable"] is False and results["format_errors"] == ["x holds no micrograd/"]


def test_a_huge_result_still_fits_in_one_megabyte():
    assignment = load_assignment()
    raw = [{"outcome": "failed", "metadata": {"part": part.id, "check": f"c{i}", "doc": f"check {i}",
                                              "finding": {"diagnosis": "wrong_gradient", "title": "wrong",
                                                          "message": "m" * 3000, "hint": "h" * 3000,
                                                          "case": "c" * 3000, "expected": 1.0, "got": 2.0,
                                                          "numerical": None, "file": "f.py", "line": 1}}}
           for part in assignment.parts for i in range(30)]
    validate(render(score("huge", raw, assignment), "prairielearn"))


def test_canvas_import_file_has_canvas_columns_and_points_possible():
    assignment = load_assignment()
    table = [Row("smithjane_1234", 80.0, 100.0, {}, "graded", graded=80.0, name="Jane Smith", canvas_id="1234"),
             Row("js42", 95.5, 100.0, {}, "graded", graded=95.5)]
    lines = list(csv.reader(canvas_csv(table, assignment, Policy(canvas_assignment_id="98765")).splitlines()))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{assignment.title} (98765)"]
    assert lines[1] == ["Points Possible", "", "", "", "", "100"]
    assert lines[2] == ["Jane Smith", "1234", "", "", "", "80"]
    assert lines[3] == ["js42", "", "js42", "", "", "95.5"]
    # Without Canvas's assignment id the column creates a new assignment on import.
    assert canvas_csv(table, assignment).splitlines()[0].endswith(f",{assignment.title}")
