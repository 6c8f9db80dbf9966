"""An engine that cannot load gets one clear error: a module of the package that raises on import, or a
statement of a single file or notebook that raises while the engine needs what it binds, is the whole
report (status error, one line naming the cause in the student's words, exit 2) in every format and in a
class batch; a statement the engine does not need costs nothing but a note."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.cli import main
from grader.paths import REFERENCE_DIR
from grader.pipeline import grade_one
from grader.report import available, render

ASSIGNMENT = load_assignment()
LONGHAND = Path(__file__).resolve().parent / "corpus" / "heldout" / "longhand.py"


def package_raising(root: Path) -> Path:
    shutil.copytree(REFERENCE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    engine = root / "micrograd" / "engine.py"
    text = engine.read_text(encoding="utf-8")
    engine.write_text(text.replace("\nclass Value", "\nSCALE = 1 / 0\n\nclass Value", 1), encoding="utf-8")
    return root


def file_needing_a_missing_module(root: Path) -> Path:
    root.mkdir(parents=True)
    path = root / "needs_module.py"
    text = LONGHAND.read_text(encoding="utf-8")
    assert text.count("import math\n") == 1
    path.write_text(text.replace("import math\n", "import mathplotlib_not_here as math\n"), encoding="utf-8")
    return path


def notebook_whose_engine_cell_raises(root: Path) -> Path:
    root.mkdir(parents=True)
    text = LONGHAND.read_text(encoding="utf-8")
    assert text.count("\nclass Value:\n") == 1
    engine = text.replace("\nclass Value:\n", "\nclass Value:\n    scale = 1 / 0\n")  # the class itself raises
    cells = [{"cell_type": "code", "execution_count": n, "metadata": {}, "outputs": [], "source": source}
             for n, source in ((3, "print('hello')"), (7, engine))]
    path = root / "raising.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}), encoding="utf-8")
    return path


KINDS = {
    "package_import_raises": (package_raising, "micrograd/engine.py:", "ZeroDivisionError raised while loading"),
    "missing_module_needed": (file_needing_a_missing_module, "needs_module.py:3: ",
                              "`import mathplotlib_not_here as math` failed: mathplotlib_not_here is not installed"),
    "notebook_cell_needed": (notebook_whose_engine_cell_raises, "raising.ipynb In [7] (cell 2):",
                             "ZeroDivisionError raised while loading"),
}


@pytest.fixture(scope="module")
def hand_ins(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("load-errors")
    return {name: build(root / name) for name, (build, _, _) in KINDS.items()}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_load_error_is_one_error_in_every_format(hand_ins, kind, capsys):
    _, place, cause = KINDS[kind]
    result = grade_one(hand_ins[kind], ASSIGNMENT)
    assert result.status == "error" and result.score == 0 and result.tests == []
    assert result.error.startswith(place) and cause in result.error and "\n" not in result.error
    for name in available():
        text = render(result, name, env={})
        assert "checks fail" not in text and "needs `Value." not in text, name
    assert main(["check", str(hand_ins[kind])]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == result.error


def test_a_statement_the_engine_does_not_need_is_a_note(tmp_path):
    path = tmp_path / "explores.py"
    path.write_text(LONGHAND.read_text(encoding="utf-8") + "\nimport seaborn_not_here\n", encoding="utf-8")
    result = grade_one(path, ASSIGNMENT)
    assert result.status == "graded" and result.score == result.max_score
    assert any("explores.py:" in note and "ModuleNotFoundError" in note for note in result.notes)


def test_a_load_error_in_a_class_is_counted_apart_and_leaves_the_others_counts_alone(hand_ins, tmp_path, capsys):
    klass = tmp_path / "class"
    klass.mkdir()
    mutant = klass / "bob"
    shutil.copytree(REFERENCE_DIR, mutant, ignore=shutil.ignore_patterns("__pycache__"))
    engine = mutant / "micrograd" / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8").replace("self.grad += other.data * out.grad",
                                                                 "self.grad = other.data * out.grad", 1), encoding="utf-8")
    counts = {}
    for with_error in (False, True):
        if with_error:
            shutil.copytree(hand_ins["package_import_raises"], klass / "eve")
        out = tmp_path / f"out-{with_error}"
        assert main(["grade", str(klass), "--out", str(out), "--force"]) == 0
        capsys.readouterr()
        summary = (out / "summary.md").read_text(encoding="utf-8")
        # Everything above the list of students who could not be graded: figures, pass rates, diagnoses.
        counts[with_error] = [line for line in summary.split("## Could not grade")[0].splitlines()
                              if line and not line.startswith(("- students:", "- could not grade:"))]
    assert counts[True] == counts[False]
    assert any(line.startswith("- 1 student: overwrite in mul") for line in counts[True])
    assert "- could not grade: 1" in summary and "ZeroDivisionError raised while loading" in summary.split("## Could not grade")[1]
    rows = (tmp_path / "out-True" / "gradebook.csv").read_text(encoding="utf-8")
    assert "eve" in rows


@pytest.mark.parametrize("kind", ["not_started", "missing", "crash", "not_a_number", "timeout", "no_answer",
                                  "not_a_value"])
def test_no_exception_text_ever_fills_a_name_slot(kind):
    """The judge builds its sentences from fields: an exception's text is never taken for a method's name."""
    from grader.judge import backward, ops
    from grader.judge.evidence import Case, Evidence

    text = "Value.Value is not defined"
    error = {"error": {"kind": kind, "type": "NameError", "message": text, "where": None}}
    op = {"id": "add/x", "kind": "op", "op": "add", "part": "add", "check": "value", "label": "a + b",
          "leaves": [1.0, 2.0], "operands": [{"leaf": 0}, {"leaf": 1}], "g": 1.5, "pre": None}
    graph = {"id": "backward/x", "kind": "backward", "label": "backward()", "nodes": []}
    found = [ops.error_finding(Evidence([], {}, {}), Case(op, error, {}), "add"),
             backward.error_finding(Evidence([], {}, {}), Case(graph, error, {}))]
    for finding in found:
        assert finding is not None
        assert f"`{text}`" not in finding.message and "`Value.Value" not in finding.message
