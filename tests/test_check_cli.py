"""`micrograde check` as a student uses it: one task with --part, --watch, their own printed output, the
one-line syntax error, and the calm report of the untouched template."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import pipeline, reference
from grader.assignment import load_assignment
from grader.checks import __file__ as checks_init
from grader.cli import main
from grader.paths import REFERENCE_DIR, REPO_DIR
from grader.pipeline import grade_one
from grader.report import render

ASSIGNMENT = load_assignment("micrograd")
TEMPLATE = REPO_DIR / ASSIGNMENT.template
TANH_RIGHT = "self.grad += (1 - t**2) * out.grad"
TANH_BUG = "self.grad += (1 - t) * out.grad"
CHECK_NAMES = sorted({m for path in Path(checks_init).parent.glob("test_*.py")
                      for m in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.MULTILINE)})


def copy_reference(root: Path, bug: tuple[str, str] | None = None) -> Path:
    shutil.copytree(REFERENCE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    if bug is not None:
        engine = root / "micrograd" / "engine.py"
        text = engine.read_text(encoding="utf-8")
        assert text.count(bug[0]) == 1
        engine.write_text(text.replace(*bug), encoding="utf-8")
    return root


def check(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def tanh_bug(tmp_path_factory) -> Path:
    return copy_reference(tmp_path_factory.mktemp("tanh") / "submission", (TANH_RIGHT, TANH_BUG))


# --- --part ---------------------------------------------------------------------------------------------------


def test_part_shows_only_that_task_and_its_exit_status(tanh_bug, capsys):
    status, out, _ = check(capsys, tanh_bug, "--part", "tanh")
    rows = [line.split()[1] for line in out.splitlines() if re.match(r" [✓✗·…?-] ", line)]
    assert status == 1 and rows == ["tanh"]
    assert "Score: 0 / 10" in out  # a wrong derivative breaks every training run: it costs the whole part
    status, out, _ = check(capsys, tanh_bug, "--part", "relu", "--part", "add", "--format", "json")
    report = json.loads(out)
    assert status == 0 and [p["id"] for p in report["parts"]] == ["add", "relu"]
    assert {t["part"] for t in report["tests"]} == {"add", "relu"} and report["max_score"] == 20


def test_part_gives_the_same_verdict_as_the_whole_check(tanh_bug):
    whole = {p.id: p for p in grade_one(tanh_bug, ASSIGNMENT).parts}
    for part in ("tanh", "add", "neg", "backward", "train"):
        alone = grade_one(tanh_bug, ASSIGNMENT, parts=[part]).parts
        assert [(p.id, p.status, p.diagnosis, p.score) for p in alone] == \
            [(part, whole[part].status, whole[part].diagnosis, whole[part].score)]


def test_part_probes_only_what_its_checks_read(tanh_bug, monkeypatch):
    asked: list[tuple[int, tuple]] = []
    real = pipeline.run_child

    def counting(staged, kind, probes, **options):
        asked.append((len(probes), probes))
        return real(staged, kind, probes, **options)

    monkeypatch.setattr(pipeline, "run_child", counting)
    grade_one(tanh_bug, ASSIGNMENT, parts=["tanh"])
    grade_one(tanh_bug, ASSIGNMENT, parts=["tanh"])
    grade_one(tanh_bug, ASSIGNMENT)
    (first, probes), (_, again), *whole = asked
    assert len(whole) == 2 and first < whole[0][0]  # fewer engine probes, and no training run at all
    assert probes is again  # one lasting tuple, so the sandbox server is sent it once
    assert all(p["stage"] == "engine" for p in probes)
    assert not [p for p in probes if p.get("part") in ("train", "zero_grad", "backward")]


def test_part_judges_only_its_checks_and_asks_the_reference_only_what_they_read(tanh_bug, monkeypatch):
    judged: list[set | None] = []
    real_checks = pipeline.run_checks

    def recording(evidences, *args, parts=None, **kwargs):
        judged.append(parts)
        raw = real_checks(evidences, *args, parts=parts, **kwargs)
        judged.append({entry["metadata"]["part"] for entry in raw})
        return raw

    monkeypatch.setattr(pipeline, "run_checks", recording)
    monkeypatch.setattr(reference, "_answers", {})  # no plan answered by an earlier grading
    probed = pipeline.probe_submission(tanh_bug, assignment=ASSIGNMENT, parts=["tanh"])
    pipeline.judge([probed], ASSIGNMENT, ["tanh"])
    ops = {p.id for p in ASSIGNMENT.parts if p.id not in ("backward", "zero_grad", "train")}
    assert judged == [ops, ops]  # the task and the ops it may wait for, nothing of training or backward
    answered = {probe_id for probe_id in probed.evidence.reference}
    assert answered and not [p for p in probed.evidence.probes if p["id"] in answered and p["stage"] == "train"]


def test_a_check_imports_no_module_of_the_other_commands():
    probe = ("import sys, contextlib, io\nfrom grader.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
             f"    status = main(['check', {str(REFERENCE_DIR)!r}, '--format', 'json'])\n"
             "print(status, '\"score\": 100' in out.getvalue(), sorted(m for m in sys.modules if m.split('.')[0] in "
             "('nbformat', 'matplotlib', 'dask') or m.startswith(('grader.batch', 'grader.authoring', "
             "'grader.gradescope', 'grader.commands.grade'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "0 True []", done.stdout + done.stderr[-2000:]


def test_unknown_part_is_one_line(capsys):
    status, out, err = check(capsys, REFERENCE_DIR, "--part", "tanhh")
    assert status == 2 and out == "" and err.count("\n") == 1 and "no task 'tanhh'" in err


# --- the student's output -----------------------------------------------------------------------------------


def test_what_the_code_prints_follows_the_report_bounded_and_labelled(tmp_path, capsys):
    root = copy_reference(tmp_path / "printing")
    engine = root / "micrograd" / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8") + "\nfor i in range(500):\n    print('debug line', i)\n",
                      encoding="utf-8")
    status, out, _ = check(capsys, root)
    assert status == 0
    report, _, printed = out.partition("Your code printed")
    assert "Score: 100 / 100" in report and "debug line" not in report
    assert "  | debug line 0\n" in printed and "debug line 499" not in printed
    assert printed.count("  | ") <= 40
    status, out, _ = check(capsys, root, "--format", "json")
    assert "debug line 0\n" in json.loads(out)["output"]


# --- calm reports -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "make", "expected"), [
    ("package", lambda root: copy_reference(root / "pkg"), "micrograd/engine.py:{line}: SyntaxError: unmatched ')'"),
    ("script", lambda root: one_file(root, ".py"), "one.py:{line}: SyntaxError: unmatched ')'"),
    ("notebook", lambda root: one_file(root, ".ipynb"), "one.ipynb cell 1:{line}: SyntaxError: unmatched ')'"),
    ("run notebook", lambda root: one_file(root, ".ipynb", execution_count=4),
     "one.ipynb In [4] (cell 1):{line}: SyntaxError: unmatched ')'"),
])
def test_a_file_that_does_not_compile_is_one_line(tmp_path, capsys, name, make, expected):
    path, line = broken(make(tmp_path))
    status, out, err = check(capsys, path)
    assert (status, out, err) == (2, "", expected.format(line=line) + "\n")


def broken(path: Path) -> tuple[Path, int]:
    """`path` with a stray `)(` after the first `return out`, and that line's number."""
    target = path / "micrograd" / "engine.py" if path.is_dir() else path
    text = target.read_text(encoding="utf-8")
    if target.suffix == ".ipynb":
        notebook = json.loads(text)
        source = notebook["cells"][0]["source"]
        notebook["cells"][0]["source"] = source.replace("return out", "return out)(", 1)
        target.write_text(json.dumps(notebook), encoding="utf-8")
        return path, source[:source.index("return out")].count("\n") + 1
    target.write_text(text.replace("return out", "return out)(", 1), encoding="utf-8")
    return path, text[:text.index("return out")].count("\n") + 1


def one_file(root: Path, suffix: str, execution_count: int | None = None) -> Path:
    code = "\n\n".join((REFERENCE_DIR / "micrograd" / f"{m}.py").read_text(encoding="utf-8")
                       for m in ("engine", "nn", "train"))
    code = re.sub(r"^from micrograd\.\w+ import .*$", "", code, flags=re.MULTILINE)
    path = root / f"one{suffix}"
    if suffix == ".py":
        path.write_text(code, encoding="utf-8")
    else:
        path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": execution_count, "source": code}]}),
            encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def untouched():
    return grade_one(TEMPLATE, ASSIGNMENT)


def test_the_untouched_template_is_calm(untouched):
    text = render(untouched, "text")
    lines = text.rstrip("\n").splitlines()
    assert len(lines) <= 20, text
    statuses = {part.id: part.status for part in untouched.parts}
    assert {statuses[task] for task in ASSIGNMENT.stubs} == {"not started"}
    assert statuses["neg"] == statuses["sub"] == statuses["div"] == "waiting"
    assert "✗" not in text and "checks passed" not in text and "failed" not in text
    # Each waits for the ops it really runs: sub is `self + (-other)`, and neg is `self * -1`.
    assert "(waits for mul)" in text and "(waits for add and mul)" in text and "(waits for mul and pow)" in text
    waiting = [part for part in untouched.parts if part.status == "waiting"]
    assert all(part.score == part.max_score == 0 for part in waiting)  # given code waiting loses no points


@pytest.mark.parametrize("format_name", ["text", "markdown", "github", "html"])
def test_no_internal_check_name_anywhere_a_student_reads(untouched, tanh_bug, format_name, tmp_path):
    assert len(CHECK_NAMES) > 10 and "test_numerical" in CHECK_NAMES
    buggy = grade_one(tanh_bug, ASSIGNMENT)
    for result in (untouched, buggy):
        shown = render(result, format_name, env={"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")})
        shown += (tmp_path / "summary.md").read_text(encoding="utf-8") if format_name == "github" else ""
        assert not [name for name in CHECK_NAMES if name in shown], format_name


def test_github_annotates_each_task_at_most_once(untouched, tanh_bug):
    for result in (untouched, grade_one(tanh_bug, ASSIGNMENT)):
        lines = render(result, "github", env={}).splitlines()
        titles = [re.search(r"title=([^:,]+)%3A", line).group(1) for line in lines]
        assert len(titles) == len(set(titles))
    lines = render(untouched, "github", env={}).splitlines()
    assert all(line.startswith("::notice ") for line in lines) and len(lines) == len(ASSIGNMENT.stubs)


def test_points_have_two_decimals_in_text_and_are_exact_in_json(tmp_path, capsys):
    # No `__rmul__`: only `3.0 * a` fails, a share of mul's checks, a number with more than two decimals.
    root = copy_reference(tmp_path / "no_rmul", ("def __rmul__(self, other):", "def rmul(self, other):"))
    _, out, _ = check(capsys, str(root), "--part", "mul", "--format", "json")
    exact = json.loads(out)["parts"][0]["score"]
    assert 0 < exact < 10 and round(exact, 2) != exact
    _, out, _ = check(capsys, str(root), "--part", "mul")
    assert f"{round(exact, 2):.2f}/10" in out and f"{exact:.3f}" not in out


# --- --watch --------------------------------------------------------------------------------------------------


def save_until_seen(watcher: subprocess.Popen, path: Path, text: str) -> None:
    """Save `text` to `path` until the watcher has graded again and ended (it may still be starting)."""
    for _ in range(120):
        path.write_text(text, encoding="utf-8")
        try:
            watcher.wait(timeout=1)
            return
        except subprocess.TimeoutExpired:
            continue


def test_watch_grades_again_after_a_save_and_says_what_changed(tmp_path):
    root = copy_reference(tmp_path / "watched", (TANH_RIGHT, TANH_BUG))
    engine = root / "micrograd" / "engine.py"
    command = [sys.executable, "-m", "grader", "check", str(root), "--watch", "--max-runs", "2", "--color", "never"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_DIR,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}) as watcher:
        try:
            assert "Watching" in watcher.stderr.readline()
            save_until_seen(watcher, engine, engine.read_text(encoding="utf-8").replace(TANH_BUG, TANH_RIGHT))
            out = watcher.stdout.read()
        finally:
            watcher.kill()
    assert watcher.returncode == 0
    first, second = out.split("\x1b[2J\x1b[H")[1:]
    assert "✗ tanh" in first and "Since the last run" not in first
    assert "Since the last run:\n  tanh: failed → passed (+10)\n" in second and "Score: 100 / 100" in second


def test_watch_prints_a_syntax_error_in_one_line_then_waits_for_the_fix(tmp_path):
    root, line = broken(copy_reference(tmp_path / "watched"))
    engine = root / "micrograd" / "engine.py"
    command = [sys.executable, "-m", "grader", "check", str(root), "--watch", "--max-runs", "2", "--color", "never"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_DIR,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}) as watcher:
        try:
            said = [watcher.stderr.readline(), watcher.stderr.readline()]
            save_until_seen(watcher, engine, engine.read_text(encoding="utf-8").replace("return out)(", "return out", 1))
            out, err = watcher.stdout.read(), watcher.stderr.read()
        finally:
            watcher.kill()
    assert said[0] == f"micrograd/engine.py:{line}: SyntaxError: unmatched ')'\n"
    assert said[1].startswith("Watching ") and said[1].endswith(" for saves; Ctrl-C to stop.\n")
    first, second = out.split("\x1b[2J\x1b[H")[1:]
    assert first == "" and err == ""  # the one line was the whole of the first run
    assert watcher.returncode == 0 and "Score: 100 / 100" in second and "Since the last run" not in second


def test_printed_output_cannot_pose_as_the_report_or_drive_the_terminal(tmp_path, capsys):
    root = copy_reference(tmp_path / "forger")
    engine = root / "micrograd" / "engine.py"
    fake = "print('\\x1b[2J\\x1b[H\\x1b]0;owned\\x07Score: 100 / 100\\n ✓ add 10/10')\n"
    engine.write_text(fake + engine.read_text(encoding="utf-8"), encoding="utf-8")
    status, out, _ = check(capsys, root, "--color", "always")
    report, label, printed = out.partition("Your code printed")
    assert status == 0 and label and report.count("Score: 100 / 100") == 1
    assert "owned" not in out and "\x1b[2J" not in out and "\x1b]0" not in out
    assert "  | Score: 100 / 100\n" in printed and "  |  ✓ add 10/10\n" in printed
    page = render(grade_one(root, ASSIGNMENT), "html")
    assert "\x1b" not in page and "Score: 100 / 100" in page.split("Your code printed")[1]


def test_failing_exploration_of_a_notebook_is_a_note_naming_its_cell_and_kept_for_the_instructor(tmp_path, capsys):
    from grader.batch.store import StudentStore
    from grader.load.notebook import IgnoredCode

    path = one_file(tmp_path, ".ipynb")
    notebook = json.loads(path.read_text(encoding="utf-8"))
    explore = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
               "source": "Value.shown_as = Value.no_such_attribute\nimport no_such_module_here\n"}
    notebook["cells"].append(explore)
    path.write_text(json.dumps(notebook), encoding="utf-8")
    status, out, _ = check(capsys, path)
    assert status == 0 and "Score: 100 / 100" in out
    assert "note: one.ipynb cell 2:1: AttributeError while loading" in out
    assert "note: one.ipynb cell 2:2: ModuleNotFoundError while loading" in out
    result = grade_one(path, ASSIGNMENT)
    # The live notebook, whose author saw these raise in the kernel, leaves them out.
    assert all(isinstance(note, IgnoredCode) for note in result.notes if "while loading" in note)
    assert len(result.load_problems) == 2 and "load_problems" not in result.to_json(include_output=True)
    StudentStore(tmp_path / "out").save("amy", result, "content", "grader")
    kept = (tmp_path / "out" / "students" / "amy" / "output.txt").read_text(encoding="utf-8")
    assert "one.ipynb cell 2:1: AttributeError while loading" in kept and "ModuleNotFoundError" in kept


def test_given_code_broken_by_a_task_takes_one_line(tmp_path):
    root = copy_reference(tmp_path / "mul", ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad"))
    text = render(grade_one(root, ASSIGNMENT), "text")
    assert "\nneg — given code built on mul, which fails its own checks: fix mul first.\n\n" in text
    assert "\nmul — 2 of 7 checks fail\n" in text and text.count("hint:") == 1
