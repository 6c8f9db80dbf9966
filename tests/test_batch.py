"""`micrograde grade` and `micrograde merge` over a small class: outputs, resuming, sharding, layouts."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.batch.discover import discover
from grader.cli import main
from grader.paths import REFERENCE_DIR

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "student_template"
PARTS = ["add", "mul", "pow", "exp", "tanh", "relu", "neg", "sub", "div", "backward", "zero_grad", "train"]


def engine_source() -> str:
    return (REFERENCE_DIR / "micrograd" / "engine.py").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    """alice: correct; bob: not started; carol: a zip; dave: one .py file; erin: empty; frank: syntax error."""
    root = tmp_path_factory.mktemp("class")
    shutil.copytree(REFERENCE_DIR, root / "alice", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(TEMPLATE / "micrograd", root / "bob" / "micrograd", ignore=shutil.ignore_patterns("__pycache__"))
    with zipfile.ZipFile(root / "carol.zip", "w") as zf:
        for file in sorted((REFERENCE_DIR / "micrograd").glob("*.py")):
            zf.write(file, f"carol/micrograd/{file.name}")
    (root / "dave.py").write_text(engine_source(), encoding="utf-8")
    (root / "erin").mkdir()
    shutil.copytree(REFERENCE_DIR, root / "frank", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "frank" / "micrograd" / "engine.py").write_text("def broken(:\n", encoding="utf-8")
    return root


def grade(capsys, *args) -> tuple[int, str, str]:
    code = main(["grade", *map(str, args), "-j", "2"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def gradebook(out: Path) -> list[dict]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def graded(klass, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert main(["grade", str(klass), "--out", str(out), "-j", "2"]) == 0
    return out


def test_gradebook_columns_and_statuses(graded):
    rows = gradebook(graded)
    assert list(rows[0]) == ["student", "score", "max_score", *PARTS, "status"]
    by = {r["student"]: r for r in rows}
    assert set(by) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert by["alice"]["status"] == "graded" and by["alice"]["score"] == "100"
    assert by["carol"]["score"] == "100"
    assert by["bob"]["status"] == "not started"
    assert by["erin"]["status"].startswith("error: ") and by["erin"]["score"] == "0"
    assert by["frank"]["status"] in ("graded",) or by["frank"]["status"].startswith("error: ")
    assert float(by["frank"]["score"]) < 100
    assert by["dave"]["status"] == "graded"


def test_outputs_exist(graded):
    for name in ("summary.md", "summary.html", "score_histogram.png", "part_pass_rate.png"):
        assert (graded / name).stat().st_size > 0
    assert (graded / "score_histogram.png").read_bytes().startswith(b"\x89PNG")
    summary = (graded / "summary.md").read_text(encoding="utf-8")
    assert "students/" in summary and "Most common diagnoses" in summary
    report = (graded / "students" / "bob" / "report.md").read_text(encoding="utf-8")
    assert "| add" not in report or "not started" in report
    assert "not started" in report and "hint:" in report


@pytest.mark.parametrize("student, entry", [("alice", "alice"), ("bob", "bob"), ("dave", "dave.py"),
                                            ("carol", "carol.zip"), ("erin", "erin")])
def test_report_json_equals_check(graded, klass, student, entry):
    check = subprocess.run([sys.executable, "-m", "grader", "check", str(klass / entry), "--format", "json"],
                           capture_output=True, text=True, cwd=ROOT, check=False)
    assert (graded / "students" / student / "report.json").read_text(encoding="utf-8") == check.stdout


def test_rerun_skips_force_regrades_edit_regrades_one(klass, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, _ = grade(capsys, klass, "--out", out)
    assert code == 0
    reports = sorted((out / "students").glob("*/report.json"))
    mtimes = {p: p.stat().st_mtime_ns for p in reports}
    code, stdout, _ = grade(capsys, klass, "--out", out)
    assert "0 graded, 6 skipped" in stdout
    assert {p: p.stat().st_mtime_ns for p in reports} == mtimes
    assert "alice" in stdout and "100 / 100" in stdout

    edited = tmp_path / "class"
    shutil.copytree(klass, edited)
    (edited / "dave.py").write_text(engine_source().replace("self.grad += ", "self.grad = ", 1), encoding="utf-8")
    code, stdout, _ = grade(capsys, edited, "--out", out)
    assert "1 graded, 5 skipped" in stdout
    assert {p: p.stat().st_mtime_ns for p in reports if "dave" not in str(p)} == \
        {p: m for p, m in mtimes.items() if "dave" not in str(p)}

    code, stdout, _ = grade(capsys, edited, "--out", out, "--force")
    assert "6 graded, 0 skipped" in stdout


def test_shards_merge_to_the_unsharded_gradebook(klass, graded, tmp_path, capsys):
    for k in (1, 2):
        code, _, _ = grade(capsys, klass, "--out", tmp_path / f"s{k}", "--shard", f"{k}/2")
        assert code == 0
    ids = [{r["student"] for r in gradebook(tmp_path / f"s{k}")} for k in (1, 2)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert main(["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "all")]) == 0
    assert (tmp_path / "all" / "gradebook.csv").read_text() == (graded / "gradebook.csv").read_text()


def test_layout_ids(tmp_path):
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    (canvas / "smithjane_1234_5678_engine.py").write_text("x = 1\n")
    (canvas / "smithjane_1234_5678_nn.py").write_text("y = 1\n")
    (canvas / "doejohn_late_42_99_micrograd.ipynb").write_text("{}")
    layout, entries = discover(canvas, tmp_path / "work")
    assert layout == "canvas"
    assert [e.id for e in entries] == ["doejohn_42", "smithjane_1234"]
    assert sorted(p.name for p in entries[1].path.iterdir()) == ["engine.py", "nn.py"]

    scope = tmp_path / "gradescope"
    (scope / "submission_111").mkdir(parents=True)
    (scope / "submission_222").mkdir()
    (scope / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Jane\n    :sid: 'js42'\n    :email: j@x.edu\n"
        "submission_222:\n  :submitters:\n  - :name: John\n    :email: jd@x.edu\n")
    layout, entries = discover(scope, tmp_path / "work2")
    assert layout == "gradescope" and [e.id for e in entries] == ["222", "js42"]

    classroom = tmp_path / "micrograd-hw-submissions"
    for user in ("octocat", "monalisa-x"):
        (classroom / f"micrograd-hw-{user}" / ".git").mkdir(parents=True)
    layout, entries = discover(classroom, tmp_path / "work3")
    assert layout == "classroom" and [e.id for e in entries] == ["monalisa-x", "octocat"]


@pytest.mark.parametrize("args, words", [(["does-not-exist"], "does not exist"),
                                         ([str(REFERENCE_DIR)], "looks like one submission"),
                                         (["x", "--shard", "3/2"], "--shard")])
def test_bad_input_is_one_line_exit_2(tmp_path, args, words):
    if args[0] == "x":
        (tmp_path / "x").mkdir()
    run = subprocess.run([sys.executable, "-m", "grader", "grade", *args, "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 2
    assert words in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr
