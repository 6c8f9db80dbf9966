"""Grading a live notebook: the kernel's executed cells, in the order they ran, become a notebook in a
private folder, which goes through the same loader, sandbox and checks as `micrograde check`. Nothing needs
to be saved, so it works in Colab too; the verdict equals that of the saved notebook run top to bottom."""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from grader.assignment import AssignmentError, load_assignment
from grader.findings import Finding
from grader.load.notebook import IgnoredCode
from grader.pipeline import grade_one
from grader.report import points, text
from grader.report.html import fragment
from grader.score import GradeResult, PartResult

NOTEBOOK_NAME = "notebook.ipynb"


class NotInANotebook(RuntimeError):
    """check() was called outside an IPython kernel, where there are no cells to grade."""


class Report:
    """What `micrograde.check()` returns: the grade of the cells run so far, as data and as one report.

    Data: `passed` (every check passed), `score` and `max_score`, `parts` (one row per task: id, title,
    score, status), `findings` (what each failing check found, a `grader.findings.Finding`), `notes`, and
    `to_json()`, the JSON report of `micrograde check --format json` with the code's printed output (`json`
    is the same, as a property).

    Display: the object is the cell's one output, shown once. Jupyter and Colab show `_repr_html_`, the HTML
    report; anything without HTML shows `repr()`, the same report as plain text without colour. There is
    deliberately no `_repr_json_`: JupyterLab ranks application/json above text/html and would show the
    JSON tree instead of the report. Nothing is printed while the cells are graded; `print(report)` prints
    just the score line (`str()`).

    The view leaves out the notes about notebook code the grader skipped as the kernel did (exploratory code,
    IPython magics and shell lines, earlier definitions, cells that did not compile; see
    `grader.load.notebook.IgnoredCode`): every cell run would add to them. `notes` and `to_json()` keep
    every note.
    """

    def __init__(self, result: GradeResult):
        self.result = result

    @property
    def passed(self) -> bool:
        """True when the code was graded and every check passed."""
        return self.result.all_passed

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    @property
    def parts(self) -> list[PartResult]:
        """The tasks graded, in the assignment's order: `id`, `title`, `score`, `max_score`, `status`
        ("passed", "failed", "not started", "waiting", "missing" or "not graded"), `passed` and `total`
        checks, and the headline `diagnosis` and `message` of a task that fails."""
        return list(self.result.parts)

    @property
    def findings(self) -> list[Finding]:
        """What each check that did not pass found, in check order: `part`, `check`, `diagnosis` (a code
        such as "wrong_derivative"), `message`, `file` and `line` (for a notebook, `notebook.ipynb In [7]`
        and the line in that cell), `case`, `expected`, `got`, `hint`. A check the grader itself could not
        run has no finding and is not listed (its part still shows it failed)."""
        return [test.finding for test in self.result.tests if test.status != "passed" and test.finding is not None]

    @property
    def notes(self) -> list[str]:
        """Every remark of the grader about the code it read, including those the display leaves out."""
        return list(self.result.notes)

    def to_json(self) -> dict:
        """The JSON report (`micrograde check --format json`), with the code's printed output."""
        return self.result.to_json(include_output=True)

    @property
    def json(self) -> dict:
        """The same as `to_json()`."""
        return self.to_json()

    def _shown(self) -> GradeResult:
        """The result as the notebook shows it: without the notes about code skipped as the kernel did."""
        return replace(self.result, notes=[note for note in self.result.notes if not isinstance(note, IgnoredCode)])

    def _repr_html_(self) -> str:
        return fragment(self._shown())

    def __repr__(self) -> str:
        return text.render(self._shown(), color=False).rstrip("\n")

    def __str__(self) -> str:
        return f"micrograde: {points(self.score)} / {points(self.max_score)}"


def executed_cells(shell=None) -> list[str]:
    """The source of every cell the kernel has run, oldest first (IPython's input history, `In`)."""
    shell = shell if shell is not None else _shell()
    history = list(shell.user_ns.get("In") or shell.history_manager.input_hist_raw)
    return [cell for cell in history[1:] if isinstance(cell, str)]  # In[0] is always ""


def cells_notebook(cells: list[str]) -> dict:
    """A minimal nbformat-4 notebook with one code cell per executed cell, each with its execution count,
    so a place in it is `notebook.ipynb In [N]` (the count and the place agree, and are said once)."""
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "id": f"in-{number}", "metadata": {}, "execution_count": number,
                       "outputs": [], "source": source} for number, source in enumerate(cells, start=1)]}


def check(*parts: str, assignment: str = "micrograd", shell=None) -> Report:
    """Grade the executed cells; with `parts`, only those tasks."""
    try:
        graded = load_assignment(assignment)
    except AssignmentError as exc:
        raise ValueError(str(exc)) from None
    known = [part.id for part in graded.parts]
    unknown = [part for part in parts if part not in known]
    if unknown:
        raise ValueError(f"no task {unknown[0]!r} in {graded.id}; the tasks are {', '.join(known)}")
    folder = Path(tempfile.mkdtemp(prefix="micrograde-notebook-"))
    try:
        path = folder / NOTEBOOK_NAME
        path.write_text(json.dumps(cells_notebook(executed_cells(shell))), encoding="utf-8")
        result = grade_one(path, graded, parts=list(dict.fromkeys(parts)) or None, name="this notebook")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Report(result)


def _shell():
    try:
        from IPython import get_ipython
    except ModuleNotFoundError:
        get_ipython = None
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        raise NotInANotebook("micrograde.check() grades the cells of a Jupyter or Colab notebook; "
                             "in a terminal, run `micrograde check FILE` instead")
    return shell
