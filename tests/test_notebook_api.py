"""`micrograde.check()` in a real IPython kernel: the generated assignment notebook run top to bottom with
the solution filled in, the same notebook with a tanh bug, and a kernel whose cells run out of order."""
from __future__ import annotations

import copy
import json

import nbformat
import pytest
from nbclient import NotebookClient

from grader.assignment import load_assignment
from grader.authoring.assignment_docs import install_cell, split_module
from grader.authoring.tasks import reference_sources
from grader.paths import REPO_DIR
from grader.pipeline import grade_one
from micrograde.notebook import NotInANotebook, cells_notebook, check

ASSIGNMENT = load_assignment("micrograd")
NOTEBOOK = ASSIGNMENT.directory / "micrograd.ipynb"
TANH_RIGHT = "self.grad += (1 - t**2) * out.grad"
TANH_BUG = "self.grad += (1 - t) * out.grad"
CELL_SECONDS = 300


def solved_notebook(bug: tuple[str, str] | None = None) -> nbformat.NotebookNode:
    """The generated notebook with the reference's code in its code cells (and `bug` put in), its install
    cell emptied: the kernel runs where micrograde is installed already."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    sources = reference_sources(REPO_DIR)
    for cell in notebook.cells:
        if cell.get("id") == "install":
            assert cell.source == install_cell(ASSIGNMENT)
            cell.source = ""
        elif cell.get("id", "").startswith("code-"):
            code = split_module(sources[f"micrograd/{cell.id[len('code-'):]}.py"])[1]
            if bug is not None and bug[0] in code:
                code = code.replace(*bug)
            cell.source = code
    return notebook


def run(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    client = NotebookClient(notebook, timeout=CELL_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO_DIR)}})
    client.execute()
    return notebook


def report_of(cell) -> dict:
    """The JSON report a check cell displayed, and its HTML beside it."""
    shown = [out for out in cell.outputs if out.output_type == "execute_result"]
    assert len(shown) == 1, cell.outputs
    data = shown[0].data
    assert "text/html" in data and "text/plain" in data
    return {"json": data["application/json"], "html": data["text/html"], "text": data["text/plain"]}


def checks(notebook) -> dict[str, dict]:
    return {cell.id[len("check-"):]: report_of(cell) for cell in notebook.cells if cell.get("id", "").startswith("check-")
            and cell.cell_type == "code"}


@pytest.fixture(scope="module")
def solved():
    return run(solved_notebook())


@pytest.fixture(scope="module")
def tanh_bug():
    return run(solved_notebook((TANH_RIGHT, TANH_BUG)))


def test_every_task_has_a_check_cell_after_its_code_and_the_install_line_comes_first():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    ids = [cell.get("id") for cell in notebook.cells]
    assert notebook.cells[1].id == "install" and notebook.cells[1].cell_type == "code"
    assert notebook.cells[1].source.count("\n") == 0 and "pip install" in notebook.cells[1].source
    for part in ASSIGNMENT.parts:
        assert f"check-{part.id}" in ids, part.id
    assert ids.index("check-add") > ids.index("code-engine") and ids.index("check-train") > ids.index("code-train")
    assert ids[-1] == "check-all"


def test_the_solved_notebook_gets_full_marks_in_every_check_cell(solved):
    shown = checks(solved)
    assert set(shown) == {part.id for part in ASSIGNMENT.parts} | {"all"}
    for task, report in shown.items():
        assert report["json"]["score"] == report["json"]["max_score"], (task, report["text"])
        assert all(part["status"] == "passed" for part in report["json"]["parts"]), task
        if task != "all":
            assert [part["id"] for part in report["json"]["parts"]] == [task]
        assert "✗" not in report["html"] and "<svg" not in report["html"]
    assert shown["all"]["json"]["score"] == 100


def test_a_tanh_bug_shows_in_the_tanh_check_with_its_diagnosis_and_graph(tanh_bug):
    shown = checks(tanh_bug)
    tanh = shown["tanh"]
    part = tanh["json"]["parts"][0]
    assert part["id"] == "tanh" and part["status"] == "failed" and part["diagnosis"] == "wrong_derivative"
    assert "the local derivative is wrong" in tanh["html"] and "Hint:" in tanh["html"]
    assert "<svg" in tanh["html"] and "first wrong" in tanh["html"] and "expected" in tanh["html"]
    for task in ("add", "mul", "relu", "train"):
        assert shown[task]["json"]["score"] == shown[task]["json"]["max_score"], task


def test_the_check_cells_agree_with_micrograde_check_of_the_saved_notebook(tanh_bug, tmp_path):
    saved = tmp_path / "saved.ipynb"
    nbformat.write(tanh_bug, saved)
    on_disk = grade_one(saved, ASSIGNMENT).to_json()
    in_kernel = checks(tanh_bug)["all"]["json"]

    def verdict(report):
        return [(p["id"], p["status"], p["diagnosis"], p["score"]) for p in report["parts"]], report["score"]

    assert verdict(in_kernel) == verdict(on_disk)


def test_check_sees_only_the_cells_the_kernel_ran():
    engine = split_module(reference_sources(REPO_DIR)["micrograd/engine.py"])[1]
    broken = "def _wrong_add(self, other):\n    return Value(0.0)\n\n\nValue.__add__ = _wrong_add"
    check_add = 'import micrograde\nreport = micrograde.check("add")\nprint(report.json["parts"][0]["status"])'
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in
                                               (engine, broken, check_add)])
    client = NotebookClient(notebook, timeout=CELL_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO_DIR)}})
    statuses = []
    with client.setup_kernel():
        for index in (0, 2, 1, 2):  # the broken cell runs only after the first check
            cell = notebook.cells[index]
            cell.outputs = []
            client.execute_cell(cell, index)
            if index == 2:
                statuses.append("".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream"))
    assert [status.strip() for status in statuses] == ["passed", "failed"]


def test_check_outside_a_kernel_says_where_it_works():
    with pytest.raises(NotInANotebook, match="micrograde check FILE"):
        check()


class FakeShell:
    """Just enough of IPython's shell for check(): the input history."""

    def __init__(self, cells: list[str]):
        self.user_ns = {"In": ["", *cells]}


def test_check_grades_the_history_it_is_given_and_names_unknown_tasks():
    engine = split_module(reference_sources(REPO_DIR)["micrograd/engine.py"])[1]
    report = check("add", "mul", shell=FakeShell([engine, "micrograde.check('add')"]))
    assert [part["id"] for part in report.json["parts"]] == ["add", "mul"]
    assert report.score == report.max_score == 20
    assert "Score: 20 / 20" in repr(report) and 'data-score="20"' in report._repr_html_()
    with pytest.raises(ValueError, match="no task 'nope'"):
        check("nope", shell=FakeShell([engine]))


def test_the_history_becomes_one_cell_per_run_in_order():
    notebook = cells_notebook(["a = 1", "b = 2"])
    assert [cell["source"] for cell in notebook["cells"]] == ["a = 1", "b = 2"]
    assert [cell["execution_count"] for cell in notebook["cells"]] == [1, 2]
    assert json.loads(json.dumps(copy.deepcopy(notebook))) == notebook
