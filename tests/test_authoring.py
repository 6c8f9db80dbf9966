"""Authoring: markers → stubs, the generated student template, the assignment's README and notebook."""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from grader import __version__ as ASSIGNMENT_VERSION
from grader.assignment import PART_IDS, load_assignment
from grader.authoring.assignment_docs import build_assignment_docs, split_module
from grader.authoring.markers import AuthoringError, parse_regions, strip_markers, stub_regions
from grader.authoring.tasks import reference_sources, student_sources, tasks
from grader.authoring.template import build_template
from grader.cli import main
from grader.paths import ASSIGNMENTS_DIR, REPO_DIR

ASSIGNMENT = load_assignment("micrograd")
TEMPLATE_DIR = REPO_DIR / ASSIGNMENT.template
NOTEBOOK = ASSIGNMENT.directory / "micrograd.ipynb"

SOURCE = '''\
class Value:
    def __add__(self, other):
        out = Value(self.data + other.data)

        def _backward():
            ### BEGIN SOLUTION add: d(a+b)/da = 1; say "accumulate".
            self.grad += out.grad
            other.grad += out.grad
            ### END SOLUTION
        return out

    def exp(self):
        ### BEGIN SOLUTION exp: "e**x" \\ 2.
        return Value(math.exp(self.data))
        ### END SOLUTION
'''


def project_copy(root: Path, with_outputs: bool) -> Path:
    """A checkout at `root` holding reference/ and the assignment files, and the generated files if asked."""
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_DIR / "reference", root / "reference", ignore=skip)
    for toml in ASSIGNMENTS_DIR.glob("*/assignment.toml"):
        (root / "assignments" / toml.parent.name).mkdir(parents=True)
        shutil.copy(toml, root / "assignments" / toml.parent.name / "assignment.toml")
        if with_outputs:
            for generated in ("README.md", "micrograd.ipynb"):
                shutil.copy(toml.parent / generated, root / "assignments" / toml.parent.name / generated)
    if with_outputs:
        shutil.copytree(TEMPLATE_DIR, root / ASSIGNMENT.template, ignore=skip)
    return root


def authoring(*args: str) -> int:
    return main(["authoring", *args])


# --- markers -------------------------------------------------------------------------------------------------

def test_regions_are_found_with_their_instruction_lines_and_indent():
    add, exp = parse_regions(SOURCE)
    assert (add.part_id, add.instruction, add.begin, add.end, add.indent) == (
        "add", 'd(a+b)/da = 1; say "accumulate".', 6, 9, " " * 12)
    assert (exp.part_id, exp.begin, exp.end, exp.indent) == ("exp", 13, 15, " " * 8)


def test_stub_replaces_a_region_by_a_todo_and_an_error_naming_the_task():
    stubbed = stub_regions(SOURCE, ["add"])
    assert '''\
        def _backward():
            # TODO(add): d(a+b)/da = 1; say "accumulate".
            raise NotImplementedError("Task add: d(a+b)/da = 1; say \\"accumulate\\".")
        return out
''' in stubbed
    assert "        return Value(math.exp(self.data))\n" in stubbed, "a region not stubbed keeps its code"
    assert "###" not in stubbed
    compile(stubbed, "<stubbed>", "exec")


def test_the_stub_message_survives_quotes_in_the_instruction():
    namespace: dict = {}
    exec(compile(stub_regions(SOURCE, ["add", "exp"]), "<stubbed>", "exec"), namespace)  # noqa: S102 - test text
    with pytest.raises(NotImplementedError) as raised:
        namespace["Value"]().exp()
    assert str(raised.value) == 'Task exp: "e**x" \\ 2.'


def test_strip_markers_keeps_the_code_and_line_endings():
    assert strip_markers(SOURCE) == "".join(line for line in SOURCE.splitlines(keepends=True) if "###" not in line)
    crlf = SOURCE.replace("\n", "\r\n")
    assert stub_regions(crlf, ["add"]) == stub_regions(SOURCE, ["add"]).replace("\n", "\r\n")


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("x = 1\n### BEGIN SOLUTION add: do it.\ny = 2\n", 2, "never closed"),
        ("### BEGIN SOLUTION add: a.\n### BEGIN SOLUTION mul: b.\n### END SOLUTION\n", 2, "cannot nest"),
        ("x = 1\n### END SOLUTION\n", 2, "without a region"),
        ("### BEGIN SOLUTION sqrt: roots.\n### END SOLUTION\n", 1, "unknown task id 'sqrt'"),
        ("### BEGIN SOLUTION add\n### END SOLUTION\n", 1, "malformed marker"),
        ("### BEGIN SOLUTION add: a.\n### END SOLUTION now\n", 2, "malformed marker"),
        ("### BEGIN SOLUTION add: a.\n### END SOLUTION\n### BEGIN SOLUTION add: b.\n### END SOLUTION\n", 3,
         "already has a region"),
    ],
    ids=["unclosed", "nested", "stray-end", "unknown-id", "no-instruction", "junk-after-end", "duplicate"],
)
def test_bad_markers_name_the_file_and_line(text, line, message):
    with pytest.raises(AuthoringError, match=message) as raised:
        parse_regions(text, source="engine.py")
    assert raised.value.line == line
    assert str(raised.value).startswith(f"engine.py:{line}: ")


def test_every_region_of_the_reference_is_a_known_part():
    regions = [r.part_id for name, text in reference_sources(REPO_DIR).items() for r in parse_regions(text, name)]
    assert sorted(regions) == sorted(["add", "mul", "pow", "exp", "tanh", "relu", "sigmoid", "log", "backward",
                                      "zero_grad", "train"])
    assert set(ASSIGNMENT.stubs) <= set(regions)


def test_a_stub_without_a_region_is_refused():
    broken = dataclasses.replace(ASSIGNMENT, stubs=(*ASSIGNMENT.stubs, "neg"))
    with pytest.raises(AuthoringError, match=r"stubs \['neg'\] have no solution region"):
        student_sources(broken, reference_sources(REPO_DIR))


# --- the generated files are committed and up to date --------------------------------------------------------

def test_regenerating_gives_the_committed_files_byte_for_byte(tmp_path, capsys):
    root = project_copy(tmp_path, with_outputs=False)
    assert authoring("student", "--root", str(root)) == 0
    assert authoring("assignments", "--root", str(root)) == 0
    generated = {
        **{f"{ASSIGNMENT.template}/{k}": v for k, v in build_template(REPO_DIR, ASSIGNMENT).items()},
        **{f"assignments/micrograd/{k}": v for k, v in build_assignment_docs(REPO_DIR, ASSIGNMENT).items()},
    }
    for relative in generated:
        assert (root / relative).read_bytes() == (REPO_DIR / relative).read_bytes(), (
            f"{relative} is out of date: run `make student` and `make assignments`")
    assert authoring("student", "--root", str(root)) == 0
    assert capsys.readouterr().out.endswith("up to date\n"), "a second run must find nothing to write"


def test_check_passes_on_the_committed_tree(capsys):
    assert authoring("student", "--check") == 0, capsys.readouterr().out
    assert authoring("assignments", "--check") == 0, capsys.readouterr().out


def test_check_lists_an_edited_file_and_writes_nothing(tmp_path, capsys):
    root = project_copy(tmp_path, with_outputs=True)
    assert authoring("student", "--check", "--root", str(root)) == 0
    engine = root / ASSIGNMENT.template / "micrograd" / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")
    (root / "assignments" / "micrograd" / "README.md").unlink()
    capsys.readouterr()
    assert authoring("student", "--check", "--root", str(root)) == 1
    assert authoring("assignments", "--check", "--root", str(root)) == 1
    out = capsys.readouterr().out
    assert f"  {ASSIGNMENT.template}/micrograd/engine.py\n" in out
    assert "  assignments/micrograd/README.md\n" in out
    assert engine.read_text(encoding="utf-8").endswith("# my edit\n"), "--check must not write"


def test_generator_keeps_other_files_and_removes_modules_it_no_longer_makes(tmp_path, capsys):
    root = project_copy(tmp_path, with_outputs=True)
    template = root / ASSIGNMENT.template
    workflow = template / ".github" / "workflows" / "check.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text("name: check\n", encoding="utf-8")
    (template / "micrograd" / "old.py").write_text("x = 1\n", encoding="utf-8")
    assert authoring("student", "--check", "--root", str(root)) == 1
    assert f"{ASSIGNMENT.template}/micrograd/old.py" in capsys.readouterr().out
    assert authoring("student", "--root", str(root)) == 0
    assert workflow.read_text(encoding="utf-8") == "name: check\n"
    assert not (template / "micrograd" / "old.py").exists()


def test_bad_input_is_a_usage_error(tmp_path, capsys):
    assert authoring("student", "--assignment", "nope") == 2
    assert "no assignment file" in capsys.readouterr().err
    root = project_copy(tmp_path, with_outputs=False)
    engine = root / "reference" / "micrograd" / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8").replace("### END SOLUTION\n", "", 1), encoding="utf-8")
    assert authoring("student", "--root", str(root)) == 2
    assert "engine.py:" in capsys.readouterr().err
    assert not (root / ASSIGNMENT.template).exists(), "nothing is written when the reference is broken"


# --- the student template ------------------------------------------------------------------------------------

# For each task a call that reaches its stub, and for given code a check that holds whatever the stubs.
PROBE = '''\
import json, random
from micrograd.engine import Value
from micrograd.nn import MLP, Module
from micrograd.train import train
from micrograd.draw import draw_dot

REACH = {
    "add": lambda: (Value(2.0) + Value(3.0)).backward(),
    "mul": lambda: (Value(2.0) * Value(3.0)).backward(),
    "pow": lambda: Value(2.0) ** 2,
    "exp": lambda: Value(1.0).exp(),
    "tanh": lambda: Value(0.5).tanh().backward(),
    "relu": lambda: Value(0.5).relu().backward(),
    "backward": lambda: Value(2.0).backward(),
    "zero_grad": lambda: Module().zero_grad(),
    "train": lambda: train(MLP(3, [4, 1]), [[1.0, 2.0, 3.0]], [1.0], steps=1),
}
GIVEN = {
    "add forward": lambda: (Value(2.0) + 3).data == 5.0 and (3 + Value(2.0)).data == 5.0,
    "mul forward": lambda: (Value(2.0) * 3).data == 6.0 and (3 * Value(2.0)).data == 6.0,
    "neg forward": lambda: (-Value(2.0)).data == -2.0,
    "sub forward": lambda: (Value(5.0) - 3).data == 2.0 and (1 - Value(5.0)).data == -4.0,
    "tanh forward": lambda: Value(0.0).tanh().data == 0.0,
    "relu forward": lambda: Value(-1.0).relu().data == 0.0 and Value(2.0).relu().data == 2.0,
    "MLP forward": lambda: isinstance(MLP(3, [4, 4, 1])([2.0, 3.0, -1.0]), Value),
    "MLP parameters": lambda: len(MLP(3, [4, 4, 1]).parameters()) == 41,
    "draw_dot": lambda: "shape=ellipse" in draw_dot(Value(1.0, label="a") * 2),
}
reached, given = {}, {}
for task, call in REACH.items():
    try:
        call()
        reached[task] = None
    except NotImplementedError as exc:
        reached[task] = str(exc)
for name, check in GIVEN.items():
    random.seed(0)
    try:
        given[name] = bool(check())
    except Exception as exc:
        given[name] = repr(exc)
print(json.dumps({"reached": reached, "given": given}))
'''


@pytest.fixture(scope="module")
def template_probe() -> dict:
    """What the committed template does when each task's code runs, from a child with only it on sys.path."""
    done = subprocess.run(
        [sys.executable, "-B", "-I", "-c", f"import sys; sys.path.insert(0, {str(TEMPLATE_DIR)!r})\n{PROBE}"],
        check=False, capture_output=True, text=True, timeout=60, cwd=TEMPLATE_DIR,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("task_id", ASSIGNMENT.stubs)
def test_each_stubbed_task_raises_an_error_naming_it(template_probe, task_id):
    reached = template_probe["reached"]
    assert task_id in reached, f"the test has no call that reaches the stub of {task_id!r}"
    instruction = next(t.instruction for t in tasks(ASSIGNMENT, reference_sources(REPO_DIR)) if t.id == task_id)
    assert reached[task_id] == f"Task {task_id}: {instruction}"


def test_given_code_works_in_the_template(template_probe):
    raised = {task: error for task, error in template_probe["reached"].items()
              if task not in ASSIGNMENT.stubs and error is not None}
    assert not raised, "given code must not raise NotImplementedError"
    broken = {name: result for name, result in template_probe["given"].items() if result is not True}
    assert not broken


def test_template_has_no_markers_and_a_todo_per_stub():
    text = "".join(path.read_text(encoding="utf-8") for path in sorted((TEMPLATE_DIR / "micrograd").glob("*.py")))
    assert "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text
    for task_id in ASSIGNMENT.stubs:
        assert text.count(f"# TODO({task_id}): ") == 1


def test_template_readme_lists_the_tasks_in_lecture_order():
    readme = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("<!-- generated by `make student`")
    positions = [readme.index(f"**`{task_id}`**") for task_id in PART_IDS if task_id in ASSIGNMENT.stubs]
    assert positions == sorted(positions)
    for part in ASSIGNMENT.parts:
        assert f"**`{part.id}`** ({part.points:g} points" in readme
    assert "make check" in readme


def test_template_makefile_runs_the_grader():
    makefile = (TEMPLATE_DIR / "Makefile").read_text(encoding="utf-8")
    assert makefile.startswith("# generated by `make student`")
    assert "\t@$(MICROGRADE) check . $(CHECKED)\n" in makefile and "\t@$(MICROGRADE) check . --watch $(CHECKED)\n" in makefile
    assert "\nCHECKED = || [ $$? -eq 1 ]\n" in makefile  # a failing check is a report, not make's error
    assert "INSTALLED := $(shell command -v micrograde 2>/dev/null)\n" in makefile
    # The wheel the template carries: a fresh clone installs the checker with nothing published.
    assert f'MICROGRADE_PACKAGE ?= .github/micrograde/micrograde_student-{ASSIGNMENT_VERSION}-py3-none-any.whl\n' \
        in makefile
    assert '\t@$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check ' \
           '$(if $(MICROGRADE_INDEX),--extra-index-url "$(MICROGRADE_INDEX)") "$(MICROGRADE_PACKAGE)"\n' in makefile
    assert "\nhelp:" in makefile


# --- the assignment's README and notebook --------------------------------------------------------------------

def test_assignment_readme_gives_each_task_its_points_instruction_and_concept():
    readme = (ASSIGNMENT.directory / "README.md").read_text(encoding="utf-8")
    positions = []
    for task in tasks(ASSIGNMENT, reference_sources(REPO_DIR)):
        heading = f"(`{task.id}`, {task.points:g} points)" if task.stubbed else f"**`{task.id}`** ({task.points:g} points)"
        assert heading in readme
        assert task.concept and task.concept in readme
        if task.stubbed:
            assert task.instruction in readme
            positions.append(readme.index(heading))
    assert positions == sorted(positions)


def test_notebook_is_valid_and_its_code_compiles():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    ids = [cell.id for cell in notebook.cells]
    assert len(ids) == len(set(ids))
    assert [cid for cid in ids if cid.startswith("code-")] == ["code-engine", "code-nn", "code-train", "code-draw"]
    assert {f"task-{task_id}" for task_id in ASSIGNMENT.stubs} <= set(ids)
    for cell in notebook.cells:
        if cell.cell_type == "code":  # IPython syntax (the install cell's %pip) as the kernel turns it into Python
            compile(TransformerManager().transform_cell(cell.source), cell.id, "exec")
            assert "from micrograd" not in cell.source and not cell.outputs


def test_notebook_of_the_solution_runs_top_to_bottom(tmp_path):
    solved = dataclasses.replace(ASSIGNMENT, stubs=())
    notebook = nbformat.reads(build_assignment_docs(REPO_DIR, solved)["micrograd.ipynb"], as_version=4)
    script = tmp_path / "notebook.py"
    # The install and check cells need a kernel: tests/test_notebook_api.py runs the notebook in one.
    code = [c.source for c in notebook.cells if c.cell_type == "code" and not c.id.startswith(("install", "check-"))]
    script.write_text("\n\n".join(code), encoding="utf-8")
    done = subprocess.run([sys.executable, "-B", "-I", str(script)], check=False, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "o = 0.7071" in done.stdout and "x1.grad = -1.5000" in done.stdout
    assert "digraph {" in done.stdout


def test_split_module_drops_the_docstring_and_package_imports():
    docstring, code = split_module(textwrap.dedent('''\
        """Doc."""
        import random

        from micrograd.engine import Value
        import micrograd


        class A:
            pass
        '''))
    assert docstring == "Doc."
    assert code == "import random\n\n\nclass A:\n    pass"
