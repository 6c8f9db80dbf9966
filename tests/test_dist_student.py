"""The student edition (`make dist-student`): the wheel holds no solution and no hidden check, and once
installed on its own it grades as the instructor's grader does, from the numerical checks and the
reference answers it ships as data.

The wheel is installed into a fresh virtual environment that sees the project's dependencies (pytest,
numpy...) through a .pth line, never the project's own source, so the grader it runs is the wheel's.
"""
from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import corpus_tools
import pytest

from grader import __version__ as grader_version
from grader.assignment import AssignmentError, check_names, load_assignment
from grader.authoring.markers import parse_regions
from grader.authoring.template import build_template
from grader.dist.student import build, without_functions, without_hidden
from grader.paths import ASSIGNMENTS_DIR, REFERENCE_DIR, REPO_DIR
from grader.pipeline import grade_one, judge, probe_submission
from grader.reference import kit_source, make_kit, public_plan, reference_api, reference_results
from grader.report.gradescope import results as gradescope_results

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
HIDDEN_CHECK = "test_custom_steps_and_lr"
# Diagnoses that say the code is absent or raised: a part judged by numbers needs a wrong-number mutant too.
NOT_NUMBERS = {"not_started", "missing", "crash"}


# --- building and installing --------------------------------------------------------------------------------


def install(wheel: Path, root: Path) -> Path:
    """A fresh venv under `root` with `wheel` installed; returns its `micrograde` command."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, timeout=300)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    # The dependencies come from the project's environment, which holds the project only as an editable
    # finder: a .pth line adds the folder but runs none of its .pth files, so that finder stays out.
    (Path(purelib) / "project_dependencies.pth").write_text(f"{SITE_PACKAGES}\n", encoding="utf-8")
    return venv / "bin" / "micrograde"


def student_env() -> dict:
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


def check_json(micrograde: Path, submission: Path) -> dict:
    """The installed edition's JSON report on `submission`."""
    done = subprocess.run([str(micrograde), "check", str(submission), "--format", "json"], check=False,
                          cwd=micrograde.parent, env=student_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def wheel_files(wheel) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


@pytest.fixture(scope="module")
def micrograde(wheel, tmp_path_factory) -> Path:
    return install(wheel, tmp_path_factory.mktemp("student-edition"))


@pytest.fixture(scope="module")
def hiding_assignment(tmp_path_factory) -> Path:
    """The micrograd assignment with one train check hidden."""
    text = (ASSIGNMENTS_DIR / "micrograd" / "assignment.toml").read_text(encoding="utf-8")
    assert "\nhidden = []\n" in text
    path = tmp_path_factory.mktemp("hiding") / "assignment.toml"
    path.write_text(text.replace("\nhidden = []\n", f'\nhidden = ["{HIDDEN_CHECK}"]\n'), encoding="utf-8")
    return path


# --- what the wheel holds -------------------------------------------------------------------------------------


def secret_lines() -> dict[str, set[str]]:
    """Every code line of a solution region that the student template does not show, by task id."""
    shown = {line.strip() for path in (REPO_DIR / "student_template").rglob("*.py")
             for line in path.read_text(encoding="utf-8").splitlines()}
    secrets: dict[str, set[str]] = {}
    for path in sorted((REFERENCE_DIR / "micrograd").glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for region in parse_regions("\n".join(lines), str(path)):
            code = {line.strip() for line in lines[region.begin:region.end - 1]}
            secrets[region.part_id] = {line for line in code if line and not line.startswith("#")} - shown
    return secrets


def test_every_stubbed_task_has_secret_lines_to_look_for():
    secrets = secret_lines()
    for task in load_assignment().stubs:
        assert secrets.get(task), f"no line of task {task!r} to look for: the wheel test would be vacuous"
    assert "self.grad += other.data * out.grad" in secrets["mul"]
    assert "p.data -= lr * p.grad" in secrets["train"]


def test_wheel_holds_no_solution_line(wheel_files):
    found = []
    for task, lines in secret_lines().items():
        for name, text in wheel_files.items():
            stripped = {line.strip() for line in text.splitlines()}
            found += [f"{name}: {task}: {line}" for line in sorted(lines & stripped)]
            found += [f"{name}: {task}: {line}" for line in sorted(lines) if len(line) > 20 and line in text
                      and line not in stripped]
    assert not found, "solution code in the student edition:\n" + "\n".join(found)


def test_wheel_holds_no_reference_source(wheel_files):
    assert not [name for name in wheel_files if name.startswith(("reference/", "micrograd/", "assignments/"))]
    for path in sorted((REFERENCE_DIR / "micrograd").glob("*.py")):
        docstring = path.read_text(encoding="utf-8").split('"""')[1].splitlines()[0]
        assert len(docstring) > 20
        assert not [name for name, text in wheel_files.items() if docstring in text], path.name
    kit = wheel_files["grader/probes/kit.py"]
    assert kit == kit_source()
    assert "_backward" not in kit and "_prev" not in kit and "topo" not in kit


def test_wheel_leaves_out_the_instructors_tools_and_ships_the_answers(wheel, wheel_files):
    assert wheel.name == "micrograde_student-0.1.0-py3-none-any.whl"
    names = set(wheel_files)
    for tool in ("grader/authoring/", "grader/selftest.py", "grader/commands/selftest.py",
                 "grader/commands/authoring.py", "grader/gradescope/", "grader/dist/", "grader/batch/",
                 "grader/commands/grade.py", "grader/commands/merge.py"):
        assert not [name for name in names if name.startswith(tool)], tool
    assert {"grader/cli.py", "grader/pipeline.py", "grader/probes/kit.py", "grader/checks/pytest.ini",
            "grader/data/assignments/micrograd/assignment.toml", "micrograde/__init__.py",
            "micrograde/notebook.py", "grader/report/html.py", "grader/report/svg.py"} <= names
    shipped = json.loads(wheel_files["grader/data/reference_results.json"])
    public = public_plan(load_assignment())
    assert shipped["plan"] == public.digest and "secret_plans" not in shipped
    assert {p["id"] for p in shipped["probes"] if p["kind"] == "train"} == {"train/one-step", "train/defaults",
                                                                              "train/custom"}
    answers = {probe: {k: v for k, v in answer.items() if k != "loops"} for probe, answer in shipped["results"].items()}
    assert json.dumps(answers, sort_keys=True) == json.dumps(reference_results(public), sort_keys=True)
    assert all(set(shipped["results"][p["id"]]["loops"]) == {"no_zero_grad", "two_steps"}
               for p in shipped["probes"] if p["kind"] == "train")
    metadata = next(text for name, text in wheel_files.items() if name.endswith(".dist-info/METADATA"))
    assert "Name: micrograde-student\n" in metadata and "Requires-Dist: pytest==" in metadata
    entry_points = next(text for name, text in wheel_files.items() if name.endswith(".dist-info/entry_points.txt"))
    assert "micrograde = grader.cli:entry" in entry_points


# --- installed as a student installs it: `make check` in the template, dependencies from the package index ----


@pytest.fixture(scope="module")
def made(wheel, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A copy of the student template after `make check` on a machine without `micrograde`: it installs the
    wheel and its dependencies into the folder's .venv (from the package index pip is configured with)."""
    root = tmp_path_factory.mktemp("template") / "student"
    shutil.copytree(REPO_DIR / "student_template", root)
    path = os.pathsep.join(folder for folder in os.environ["PATH"].split(os.pathsep)
                           if not (Path(folder) / "micrograde").exists() and Path(folder) != Path(sys.executable).parent)
    done = subprocess.run(["make", "check", f"MICROGRADE_PACKAGE={wheel}"], cwd=root, capture_output=True, text=True,
                          env={**student_env(), "PATH": path}, timeout=900, check=False)
    return root, done


def venv_python(root: Path, code: str) -> str:
    return subprocess.run([str(root / ".venv" / "bin" / "python"), "-I", "-c", code], cwd=root, env=student_env(),
                          capture_output=True, text=True, timeout=120, check=True).stdout


def test_make_check_installs_the_student_edition_then_grades(made):
    root, done = made
    assert (root / ".venv" / "bin" / "micrograde").is_file(), done.stderr
    assert "Installing the checker into .venv/" in done.stdout and "(not started)" in done.stdout
    assert "Score: 15 / 100" in done.stdout
    assert "Traceback" not in done.stderr


def test_the_student_edition_depends_only_on_what_checking_needs(made):
    root, _ = made
    requires = json.loads(venv_python(root, "import importlib.metadata as m, json; "
                                            "print(json.dumps(m.requires('micrograde-student')))"))
    assert {re.split(r"[=<>]", requirement)[0] for requirement in requires} == {
        "numpy", "nbformat", "dulwich", "pytest", "pytest-json-report", "rich", "watchfiles"}
    installed = venv_python(root, "import importlib.metadata as m; print(sorted(d.metadata['Name'].lower() "
                                  "for d in m.distributions()))")
    assert "numpy" in installed and "matplotlib" not in installed and "pillow" not in installed


@pytest.mark.parametrize("engine", ["numpy_kahn.py", "numpy_notebook.ipynb"])
def test_the_student_edition_gives_a_numpy_engine_full_marks(made, engine):
    root, _ = made
    report = check_json(root / ".venv" / "bin" / "micrograde", REPO_DIR / "tests" / "corpus" / "correct" / engine)
    assert report["score"] == report["max_score"], report["parts"]


def test_the_installed_student_edition_offers_no_instructors_command_and_grades_a_solution(made):
    root, _ = made
    micrograde = root / ".venv" / "bin" / "micrograde"
    usage = subprocess.run([str(micrograde), "--help"], cwd=root, env=student_env(), capture_output=True, text=True,
                           timeout=60, check=True).stdout
    listed = usage.split("positional arguments:")[1].split("options:")[0]
    commands = set(re.findall(r"^    (\w+)(?: |$)", listed, re.MULTILINE))
    # check, the isolation it runs in, and the Classroom 50 autograder's own grading (its bundle carries this
    # edition): no grade, merge, authoring, selftest or gradescope.
    assert commands == {"check", "assignments", "sandbox", "classroom50"}, usage
    report = check_json(micrograde, REFERENCE_DIR)
    assert report["score"] == report["max_score"] == 100
    assert "check" in venv_python(root, "import micrograde; print(micrograde.check.__name__)")


def test_the_same_checkout_builds_the_same_wheel(wheel, tmp_path):
    """Each build in a process of its own: the reference's answers are computed afresh, with new object
    ids and so new `_prev` set orders, as `make dist-student` does on two days."""
    built = []
    for run in range(3):
        subprocess.run([sys.executable, "-m", "grader.dist.student", "--out", str(tmp_path / str(run))],
                       cwd=REPO_DIR, check=True, capture_output=True, timeout=300)
        built.append((tmp_path / str(run) / wheel.name).read_bytes())
    assert built[0] == built[1] == built[2] == wheel.read_bytes()


def test_two_clones_at_different_paths_build_the_same_wheel(wheel, tmp_path):
    """`make dist-student` in clones at other paths, of other lengths: no path of the building clone
    reaches the wheel."""
    from test_install import copy_project

    built = []
    for name in ("a", "a-much-longer-folder-name/clone"):
        clone = copy_project(tmp_path / name)
        subprocess.run([sys.executable, "-m", "grader.dist.student", "--out", str(clone / "dist")], cwd=clone,
                       check=True, capture_output=True, timeout=300, env={**student_env(), "PYTHONPATH": str(clone)})
        built.append((clone / "dist" / wheel.name).read_bytes())
        with zipfile.ZipFile(clone / "dist" / wheel.name) as archive:
            assert not [entry for entry in archive.namelist() if str(tmp_path).encode() in archive.read(entry)]
    assert built[0] == built[1] == wheel.read_bytes()


# --- the installed student edition grades as the instructor's grader does ---------------------------------------


def test_installed_edition_is_the_wheel_without_the_reference(micrograde):
    venv = micrograde.parent.parent
    done = subprocess.run([str(venv / "bin" / "python"), "-I", "-c",
                           "import grader, grader.reference as r; print(grader.__file__); print(r.has_reference())"],
                          cwd=venv, env=student_env(), capture_output=True, text=True, timeout=60, check=True)
    location, has_reference = done.stdout.split()
    assert Path(location).is_relative_to(venv) and has_reference == "False"
    usage = subprocess.run([str(micrograde), "--help"], cwd=venv, env=student_env(), capture_output=True, text=True,
                           timeout=60, check=True).stdout
    assert "check" in usage and "selftest" not in usage and "authoring" not in usage


def test_installed_edition_gives_the_reference_full_marks(micrograde):
    report = check_json(micrograde, REFERENCE_DIR)
    assert report["score"] == report["max_score"] == 100
    assert report["tests"] and all(test["status"] == "passed" for test in report["tests"])


def bug_classes() -> list[dict]:
    """One mutant of each diagnosis, a wrong-number mutant of each part, and every training-loop mutant
    (those are told apart by the reference's answers to known wrong loops, which the edition ships)."""
    chosen: dict[str, dict] = {}
    for mutant in corpus_tools.load_mutants():
        keys = [f"diagnosis:{mutant['diagnosis']}"]
        if mutant["diagnosis"] not in NOT_NUMBERS:
            keys.append(f"part:{mutant['part']}")
        if mutant["part"] == "train":
            keys.append(f"train:{mutant['name']}")
        for key in keys:
            chosen.setdefault(key, mutant)
    return list({mutant["name"]: mutant for mutant in chosen.values()}.values())


@pytest.fixture(scope="module")
def graded_both_ways(micrograde, tmp_path_factory) -> dict[str, tuple[dict, dict]]:
    """Each bug-class mutant graded by the installed student edition and by the instructor's grader."""
    root = tmp_path_factory.mktemp("mutants")
    mutants = {m["name"]: corpus_tools.build_mutant(m, root / m["name"]) for m in bug_classes()}
    with ThreadPoolExecutor(max_workers=4) as pool:
        student = dict(zip(mutants, pool.map(lambda path: check_json(micrograde, path), mutants.values())))
        probed = list(pool.map(lambda item: probe_submission(item[1], name=item[0]), mutants.items()))
    instructor = {result.submission: result.to_json() for result in judge(probed, load_assignment())}
    return {name: (student[name], instructor[name]) for name in mutants}


def test_bug_classes_cover_every_part_and_diagnosis():
    chosen = bug_classes()
    every = corpus_tools.load_mutants()
    assert {m["part"] for m in chosen} == {m["part"] for m in every}
    assert {m["diagnosis"] for m in chosen} == {m["diagnosis"] for m in every}


@pytest.mark.parametrize("mutant", bug_classes(), ids=lambda m: m["name"])
def test_installed_edition_catches_each_bug_class_as_the_instructor_does(graded_both_ways, mutant):
    student, instructor = graded_both_ways[mutant["name"]]
    parts = {part["id"]: part for part in student["parts"]}
    part = parts[mutant["part"]]
    assert part["status"] != "passed", f"the student edition missed {mutant['name']}"
    if part["max_score"] > 0:
        assert part["score"] < part["max_score"]
    assert part["diagnosis"] == mutant["diagnosis"], part["message"]
    charged = {p["id"] for p in student["parts"] if p["score"] < p["max_score"]}
    assert charged <= {mutant["part"]}
    verdicts = [(p["id"], p["status"], p["diagnosis"], p["passed"], p["total"]) for p in student["parts"]]
    assert verdicts == [(p["id"], p["status"], p["diagnosis"], p["passed"], p["total"]) for p in instructor["parts"]]


# --- hidden checks ------------------------------------------------------------------------------------------------


def test_hidden_checks_run_only_in_the_instructors_grading(hiding_assignment, tmp_path):
    assignment = load_assignment(hiding_assignment)
    assert assignment.hidden == (HIDDEN_CHECK,)
    instructor = grade_one(REFERENCE_DIR, assignment)
    assert HIDDEN_CHECK in {test.check for test in instructor.tests}
    assert {test.check for test in instructor.tests if test.hidden} == {HIDDEN_CHECK}
    on_gradescope = {t["name"]: t["visibility"] for t in gradescope_results(instructor)["tests"]}
    assert sorted(set(on_gradescope.values())) == ["after_published", "visible"]
    assert [name for name, seen in on_gradescope.items() if seen == "after_published"] == \
        [test.name for test in instructor.tests if test.check == HIDDEN_CHECK]

    wheel = build(tmp_path / "dist", hiding_assignment)
    with zipfile.ZipFile(wheel) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert not [name for name, text in files.items() if name.endswith(".py") and HIDDEN_CHECK in text]
    assert "def test_default_run(" in files["grader/checks/test_train.py"]
    assert tomllib.loads(files["grader/data/assignments/micrograd/assignment.toml"])["hidden"] == []

    student = check_json(install(wheel, tmp_path), REFERENCE_DIR)
    checks = {test["check"] for test in student["tests"] if test["part"] == "train"}
    assert HIDDEN_CHECK not in checks and "test_default_run" in checks
    assert student["score"] == 100


def test_hidden_names_must_be_checks(hiding_assignment, tmp_path):
    text = hiding_assignment.read_text(encoding="utf-8")
    cases = {
        f'hidden = ["{HIDDEN_CHECK}", "test_nope"]': "unknown checks ['test_nope']",
        f'hidden = ["{HIDDEN_CHECK}", "{HIDDEN_CHECK}"]': "more than once",
        'hidden = "test_default_run"': "must be a list of check names",
        f"hidden = {json.dumps(list(check_names()['test_zero_grad.py']))}": "every check of grader/checks/test_zero_grad.py",
    }
    for line, message in cases.items():
        path = tmp_path / "assignment.toml"
        path.write_text(text.replace(f'hidden = ["{HIDDEN_CHECK}"]', line), encoding="utf-8")
        with pytest.raises(AssignmentError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_assignment(path)


def test_hidden_functions_are_cut_with_their_decorators_and_comments():
    source = ("import pytest\n\n\n# about a\n@pytest.mark.x\ndef test_a(evidence):\n    pass\n\n\n"
              "def test_b(evidence):\n    pass\n")
    assert without_functions(source, ("test_a",)) == "import pytest\n\n\ndef test_b(evidence):\n    pass\n"
    assert without_hidden('id = "x"\nhidden = [\n  "test_a",\n]\n') == 'id = "x"\nhidden = []\n'


# --- the kit the student edition ships instead of the reference ------------------------------------------------


def test_kit_builds_the_same_model_from_the_same_seed():
    ref, kit = reference_api(), make_kit()
    random.seed(5)
    want = [p.data for p in ref["MLP"](3, [4, 4, 1]).parameters()]
    random.seed(5)
    got = [p.data for p in kit["MLP"](3, [4, 4, 1]).parameters()]
    assert got == want and len(got) == 41


@pytest.mark.parametrize("zero_grad", [True, False], ids=["with-zero-grad", "forgotten-zero-grad"])
def test_kit_gradients_accumulate_as_reverse_mode_does(zero_grad):
    ref, kit = reference_api(), make_kit()
    xs, ys = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0]], [1.0, -1.0, -1.0]
    runs = []
    for api in (ref, kit):
        random.seed(11)
        model = api["MLP"](3, [4, 1])
        trace = []
        for _ in range(3):
            pred = [model(x) for x in xs]
            loss = sum(((yp - y) ** 2 for y, yp in zip(ys, pred)), 0.0) / 2 + pred[0].relu() * pred[1].exp()
            if zero_grad:
                model.zero_grad()
            loss.backward()
            trace += [loss.data, loss.grad] + [p.grad for p in model.parameters()]
            for p in model.parameters():
                p.data -= 0.1 * p.grad
        runs.append(trace)
    assert runs[1] == pytest.approx(runs[0], rel=1e-10, abs=1e-12)
    assert len({round(g, 9) for g in runs[0]}) > 10  # the gradients are not all alike, so the comparison says much


def test_kit_leaf_backward_and_power_as_the_reference():
    for api in (reference_api(), make_kit()):
        a = api["Value"](3.0)
        a.grad = 5.0
        a.backward()
        assert a.grad == 1.0, "backward() on a leaf sets its own grad to 1"
        b = api["Value"](2.0)
        out = 1 - b / 4 + 2 ** 0 * b ** 3 - (-b).tanh()
        out.backward()
        assert b.grad == pytest.approx(-0.25 + 12 + (1 - math.tanh(-2.0) ** 2) * -1 * -1, rel=1e-12)
        with pytest.raises(AssertionError):
            b ** api["Value"](2.0)


# --- the students' workflow installs the student edition ---------------------------------------------------


def test_students_workflow_installs_this_wheel_by_default(wheel):
    workflow = (REPO_DIR / "student_template" / ".github" / "workflows" / "grade.yml").read_text(encoding="utf-8")
    # The template carries the wheel itself, so the workflow installs it from the student's own checkout.
    package = next(line for line in workflow.splitlines() if line.startswith("  MICROGRADE_WHEEL: "))
    assert package == f"  MICROGRADE_WHEEL: .github/micrograde/{wheel.name}" and grader_version in wheel.name


def test_a_course_sets_where_its_students_install_the_edition_from(tmp_path):
    text = (ASSIGNMENTS_DIR / "micrograd" / "assignment.toml").read_text(encoding="utf-8")
    url = "https://example.edu/micrograde/micrograde_student-0.1.0-py3-none-any.whl"
    path = tmp_path / "assignment.toml"
    path.write_text(text.replace("\nhidden = []\n", f'\nhidden = []\nstudent_edition = "{url}"\n'), encoding="utf-8")
    tree = build_template(REPO_DIR, load_assignment(path))
    assert f'\n  MICROGRADE_PACKAGE: "{url}"\n' in tree[".github/workflows/grade.yml"]
    path.write_text(text.replace("\nhidden = []\n", '\nhidden = []\nstudent_edition = "two words"\n'), encoding="utf-8")
    with pytest.raises(AssignmentError, match="student_edition"):
        load_assignment(path)


def test_a_course_index_reaches_every_generated_install_line(tmp_path):
    """`student_index`: the template's Makefile, workflow and README and the notebook's first cell install the
    pinned edition from the course's index; anything but one http(s) URL is refused."""
    from grader.authoring.assignment_docs import install_cell

    text = (ASSIGNMENTS_DIR / "micrograd" / "assignment.toml").read_text(encoding="utf-8")
    url = "https://course.example.edu/micrograde/simple/"
    path = tmp_path / "assignment.toml"
    path.write_text(text.replace("\nhidden = []\n", f'\nhidden = []\nstudent_index = "{url}"\n'), encoding="utf-8")
    assignment = load_assignment(path)
    tree = build_template(REPO_DIR, assignment)
    pinned = f"micrograde-student=={grader_version}"
    assert f"\nMICROGRADE_INDEX ?= {url}\n" in tree["Makefile"] and f"\nMICROGRADE_PACKAGE ?= {pinned}\n" in tree["Makefile"]
    workflow = tree[".github/workflows/grade.yml"]
    assert f'\n  MICROGRADE_INDEX: "{url}"\n' in workflow and f'\n  MICROGRADE_PACKAGE: "{pinned}"\n' in workflow
    assert 'pip install --extra-index-url "$MICROGRADE_INDEX" "$MICROGRADE_PACKAGE"' in workflow
    assert f'.venv/bin/python -m pip install --extra-index-url {url} "{pinned}"' in tree["README.md"]
    assert install_cell(assignment) == f'%pip install --quiet --extra-index-url {url} "{pinned}"'
    for bad in ("ftp://course.example.edu/", "https://a b/", 'https://x/"; rm -rf ~; "', "course-index"):
        path.write_text(text.replace("\nhidden = []\n", f"\nhidden = []\nstudent_index = {json.dumps(bad)}\n"),
                        encoding="utf-8")
        with pytest.raises(AssignmentError, match="student_index"):
            load_assignment(path)
