"""`micrograde.check()` in a real IPython kernel: the generated assignment notebook run top to bottom with
the solution filled in, the same notebook with a tanh bug, a kernel whose cells run out of order, and what a
check cell shows: one report, nothing printed, no note that grows with every cell run."""
from __future__ import annotations

import copy
import json

import nbformat
import pytest
from nbclient import NotebookClient

from grader.assignment import load_assignment
from grader.authoring.assignment_docs import install_cell, split_module
from grader.authoring.tasks import reference_sources
from grader.findings import Finding
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


# Run after a cell whose value is a Report, and kept out of the kernel's history (store_history=False), so
# no later check() grades it: the report's JSON, which the cell's display leaves out.
READ_REPORT = "import json as _json\nprint(_json.dumps(_.to_json()))"


def kernel(notebook: nbformat.NotebookNode) -> NotebookClient:
    return NotebookClient(notebook, timeout=CELL_SECONDS, kernel_name="python3",
                          resources={"metadata": {"path": str(REPO_DIR)}})


def run(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every code cell run in order in one kernel; after each check cell, its report's JSON is read into
    the cell's metadata as `report_json`."""
    client = kernel(notebook)
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            if cell.get("id", "").startswith("check-"):
                cell.metadata["report_json"] = report_json(client)
    return notebook


def report_json(client: NotebookClient) -> dict:
    """The JSON of the Report the last cell run gave (`_`)."""
    probe = nbformat.v4.new_code_cell(READ_REPORT)
    client.nb.cells.append(probe)  # nbclient puts an executed cell back at its index
    try:
        client.execute_cell(probe, len(client.nb.cells) - 1, store_history=False)
    finally:
        client.nb.cells.pop()
    return json.loads("".join(out.get("text", "") for out in probe.outputs if out.output_type == "stream"))


def the_one_display(cell) -> dict:
    """The one thing a check cell shows: a display with the HTML report and the plain-text one, and no
    printed output (stream), no second display, no JSON view."""
    assert len(cell.outputs) == 1, cell.outputs
    shown = cell.outputs[0]
    assert shown.output_type in ("execute_result", "display_data"), shown
    assert set(shown.data) == {"text/html", "text/plain"}, set(shown.data)
    assert shown.data["text/plain"].strip() and shown.data["text/html"].strip()
    return shown.data


def report_of(cell) -> dict:
    """The report a check cell displayed, HTML and text, and its JSON read from the kernel."""
    data = the_one_display(cell)
    return {"json": cell.metadata["report_json"], "html": data["text/html"], "text": data["text/plain"]}


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
    client = kernel(notebook)
    statuses = []
    with client.setup_kernel():
        for index in (0, 2, 1, 2):  # the broken cell runs only after the first check
            cell = notebook.cells[index]
            cell.outputs = []
            client.execute_cell(cell, index)
            if index == 2:
                statuses.append("".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream"))
    assert [status.strip() for status in statuses] == ["passed", "failed"]


def test_a_check_cell_shows_one_report_prints_nothing_and_its_notes_do_not_grow():
    engine = split_module(reference_sources(REPO_DIR)["micrograd/engine.py"])[1]
    sources = {
        "engine": engine,
        "explore": "%time x = 1\na = Value(2.0)\nprint('exploring', a)",
        "assign": 'import micrograde\nr = micrograde.check("add")',
        "show": "r",
        "check": 'import micrograde\nmicrograde.check("add")',
    }
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, id=name)
                                               for name, source in sources.items()])
    cells = {cell.id: (index, cell) for index, cell in enumerate(notebook.cells)}
    client = kernel(notebook)
    shown, notes = [], []
    with client.setup_kernel():
        for name in ("engine", "explore", "engine", "assign", "show", "check", "explore", "check", "explore", "check"):
            index, cell = cells[name]
            cell.outputs = []
            client.execute_cell(cell, index)
            if name == "assign":
                assert cell.outputs == []  # graded, and nothing printed or shown
            elif name in ("show", "check"):
                shown.append(the_one_display(cell))
                notes.append(report_json(client)["notes"])
    texts = [data["text/plain"] for data in shown]
    assert all(text.startswith("micrograde · this notebook · micrograd\n") and "Score: 10 / 10" in text
               for text in texts)
    # One note, the same each time: only the engine is written so far. None about the code skipped.
    for data in shown:
        assert [line for line in data["text/plain"].splitlines() if line.startswith("note:")] == [
            "note: no Module, Neuron, Layer, MLP and train defined: the parts that need them will be reported as missing"]
        assert data["text/html"].count("note:") == 1
        assert not any(word in data["text/plain"] + data["text/html"] for word in ("exploratory", "IPython", "In ["))
    assert len(set(texts)) == 1  # the fourth check shows what the first showed
    # The notes left out of the view are kept in the report's data, where they do grow with the history.
    assert all(any(note.startswith("skipped ") and "exploratory code in In [2]" in note for note in run)
               for run in notes)
    assert any("Value in In [1], In [3]" in note for note in notes[0])
    assert len({json.dumps(run) for run in notes}) == len(notes)


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
    assert report.passed and report.findings == [] and [part.id for part in report.parts] == ["add", "mul"]
    assert report.to_json() == report.json and not hasattr(report, "_repr_json_")
    assert str(report) == "micrograde: 20 / 20"
    with pytest.raises(ValueError, match="no task 'nope'"):
        check("nope", shell=FakeShell([engine]))


def test_the_findings_name_the_cell_as_in_the_kernel_and_the_view_leaves_out_skipped_code():
    engine = split_module(reference_sources(REPO_DIR)["micrograd/engine.py"])[1].replace(TANH_RIGHT, TANH_BUG)
    report = check("tanh", shell=FakeShell(["print('warming up')", engine, "micrograde.check('tanh')"]))
    assert not report.passed and report.score < report.max_score
    assert report.findings and all(isinstance(finding, Finding) for finding in report.findings)
    first = report.findings[0]
    assert (first.part, first.diagnosis, first.file) == ("tanh", "wrong_derivative", "notebook.ipynb In [2]")
    assert engine.split("\n")[first.line - 1].strip() == TANH_BUG
    assert None not in (first.case, first.expected, first.got) and first.message
    assert "notebook.ipynb In [2]:" in repr(report)
    skipped = [note for note in report.notes if "exploratory code" in note]
    assert skipped == ["skipped 2 lines of exploratory code in In [1], In [3]"]
    assert report.to_json()["notes"] == report.notes
    assert "exploratory" not in repr(report) and "exploratory" not in report._repr_html_()


def test_the_history_becomes_one_cell_per_run_in_order():
    notebook = cells_notebook(["a = 1", "b = 2"])
    assert [cell["source"] for cell in notebook["cells"]] == ["a = 1", "b = 2"]
    assert [cell["execution_count"] for cell in notebook["cells"]] == [1, 2]
    assert json.loads(json.dumps(copy.deepcopy(notebook))) == notebook
