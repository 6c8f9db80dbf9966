"""Grading a live notebook: the kernel's executed cells, in the order they ran, become a notebook in a
private folder, which goes through the same loader, sandbox and checks as `micrograde check`. Nothing needs
to be saved, so it works in Colab too; the verdict equals that of the saved notebook run top to bottom."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from grader.assignment import AssignmentError, load_assignment
from grader.pipeline import grade_one
from grader.report import points, text
from grader.report.html import fragment
from grader.score import GradeResult

NOTEBOOK_NAME = "notebook.ipynb"


class NotInANotebook(RuntimeError):
    """check() was called outside an IPython kernel, where there are no cells to grade."""


class Report:
    """What `micrograde.check()` returns: the grade, with the JSON report as a dict, shown as HTML in
    Jupyter and Colab and as plain text anywhere else."""

    def __init__(self, result: GradeResult):
        self.result = result

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    @property
    def json(self) -> dict:
        """The JSON report (`micrograde check --format json`), with the code's printed output."""
        return self.result.to_json(include_output=True)

    def _repr_html_(self) -> str:
        return fragment(self.result)

    def _repr_json_(self) -> dict:
        return self.json

    def __repr__(self) -> str:
        return text.render(self.result, color=False).rstrip("\n")

    def __str__(self) -> str:
        return f"micrograde: {points(self.score)} / {points(self.max_score)}"


def executed_cells(shell=None) -> list[str]:
    """The source of every cell the kernel has run, oldest first (IPython's input history, `In`)."""
    shell = shell if shell is not None else _shell()
    history = list(shell.user_ns.get("In") or shell.history_manager.input_hist_raw)
    return [cell for cell in history[1:] if isinstance(cell, str)]  # In[0] is always ""


def cells_notebook(cells: list[str]) -> dict:
    """A minimal nbformat-4 notebook with one code cell per executed cell, so "cell N" is In[N]."""
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
