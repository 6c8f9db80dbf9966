"""`micrograde grade` and `micrograde merge` over a small class: outputs, resuming, sharding, layouts,
what a submission prints, and runs that are interrupted or killed."""
from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import batch_tools
import pytest

from grader.assignment import load_assignment
from grader.batch import runner
from grader.batch.store import OUTPUT_LIMIT, StudentStore
from grader.batch.submissions import Entry, find_submissions
from grader.batch.summary import rows, summary_markdown
from grader.cli import main
from grader.paths import REFERENCE_DIR
from grader.score import score

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
    assert list(rows[0]) == ["student", "name", "email", "score", "max_score", *PARTS, "status", "graded_score",
                             "submitted_at", "audit"]
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
    assert "0 graded, 0 could not be graded, 6 skipped" in stdout
    assert {p: p.stat().st_mtime_ns for p in reports} == mtimes
    assert "alice" in stdout and "100 / 100" in stdout

    edited = tmp_path / "class"
    shutil.copytree(klass, edited)
    (edited / "dave.py").write_text(engine_source().replace("self.grad += ", "self.grad = ", 1), encoding="utf-8")
    code, stdout, _ = grade(capsys, edited, "--out", out)
    assert "1 graded, 0 could not be graded, 5 skipped" in stdout
    assert {p: p.stat().st_mtime_ns for p in reports if "dave" not in str(p)} == \
        {p: m for p, m in mtimes.items() if "dave" not in str(p)}

    code, stdout, _ = grade(capsys, edited, "--out", out, "--force")
    # erin's empty folder and frank's syntax error could not be graded: they are not counted as graded.
    assert "4 graded, 2 could not be graded, 0 skipped" in stdout


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
    layout, entries = find_submissions(canvas, tmp_path / "work")
    assert layout == "canvas"
    assert [e.id for e in entries] == ["doejohn_42", "smithjane_1234"]
    assert sorted(p.name for p in entries[1].path.iterdir()) == ["engine.py", "nn.py"]

    scope = tmp_path / "gradescope"
    (scope / "submission_111").mkdir(parents=True)
    (scope / "submission_222").mkdir()
    (scope / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Jane\n    :sid: 'js42'\n    :email: j@x.edu\n"
        "submission_222:\n  :submitters:\n  - :name: John\n    :email: jd@x.edu\n")
    layout, entries = find_submissions(scope, tmp_path / "work2")
    assert layout == "gradescope" and [e.id for e in entries] == ["222", "js42"]

    classroom = tmp_path / "micrograd-hw-submissions"
    for user in ("octocat", "monalisa-x"):
        (classroom / f"micrograd-hw-{user}" / ".git").mkdir(parents=True)
    layout, entries = find_submissions(classroom, tmp_path / "work3")
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


# ---- what a submission prints: a bounded, cleaned excerpt for instructors, never in the student's report --

LOUD_ENGINE_START = '''import sys
print("\\x1b[31mred alert\\x1b[0m \\x1b]0;new window title\\x07 bell\\x07 done")
print("\\x1b[2J\\x1b[Hscreen cleared", file=sys.stderr)
for i in range(20000):
    print(f"flood line {i}")
'''


def test_store_keeps_a_clean_bounded_excerpt_and_no_stale_files(tmp_path):
    assignment = load_assignment()
    store = StudentStore(tmp_path)
    folder = store.folder("amy")
    folder.mkdir(parents=True)
    (folder / ".report.json.k1ll3d.tmp").write_text("{", encoding="utf-8")
    result = score("amy", [], assignment, output="\x1b[1mhello from amy\x1b[0m\r\n\x07" + "z" * 10_000)
    store.save("amy", result, "content", "grader")
    assert (folder / "output.txt").read_text(encoding="utf-8") == "hello from amy\n" + "z" * (OUTPUT_LIMIT - 15) + "…\n"
    assert not list(folder.glob(".*.tmp"))
    assert store.is_current("amy", "content", "grader")
    assert "hello from amy" not in (folder / "report.json").read_text(encoding="utf-8")

    store.save("amy", score("amy", [], assignment, output=" \n\n"), "content 2", "grader")
    assert not (folder / "output.txt").exists()
    assert store.is_current("amy", "content 2", "grader")


def test_printed_output_goes_to_output_txt_only(tmp_path, capsys):
    klass = tmp_path / "class"
    for name in ("loud", "quiet"):
        shutil.copytree(REFERENCE_DIR, klass / name, ignore=shutil.ignore_patterns("__pycache__"))
    engine = klass / "loud" / "micrograd" / "engine.py"
    engine.write_text(LOUD_ENGINE_START + engine_source(), encoding="utf-8")
    out = tmp_path / "out"
    code, _, _ = grade(capsys, klass, "--out", out)
    assert code == 0
    assert {r["student"]: r["score"] for r in gradebook(out)} == {"loud": "100", "quiet": "100"}

    loud = out / "students" / "loud"
    excerpt = (loud / "output.txt").read_text(encoding="utf-8")
    assert "red alert  bell done" in excerpt and "screen cleared" in excerpt and "flood line 0\n" in excerpt
    assert "new window title" not in excerpt
    assert all(ch in "\n\t" or " " <= ch != "\x7f" for ch in excerpt)
    assert len(excerpt) <= OUTPUT_LIMIT + 2 and excerpt.endswith("…\n")
    for report in ("report.json", "report.md"):
        text = (loud / report).read_text(encoding="utf-8")
        assert "red alert" not in text and "flood line" not in text and "\x1b" not in text
    assert not (out / "students" / "quiet" / "output.txt").exists()

    engine.write_text(engine_source(), encoding="utf-8")
    code, stdout, _ = grade(capsys, klass, "--out", out)
    assert "1 graded, 0 could not be graded, 1 skipped" in stdout
    assert not (loud / "output.txt").exists()


def test_merge_drops_files_the_shard_no_longer_has(tmp_path):
    assignment, shard, merged = load_assignment(), tmp_path / "shard", tmp_path / "all" / "students" / "amy"
    StudentStore(shard).save("amy", score("amy", [], assignment, output="hello"), "content", "grader")
    assert main(["merge", str(shard), "--out", str(tmp_path / "all")]) == 0
    assert (merged / "output.txt").read_text(encoding="utf-8") == "hello\n"

    StudentStore(shard).save("amy", score("amy", [], assignment), "content 2", "grader")
    assert main(["merge", str(shard), "--out", str(tmp_path / "all")]) == 0
    assert not (merged / "output.txt").exists()
    assert json.loads((merged / "state.json").read_text(encoding="utf-8"))["content"] == "content 2"


def test_summary_escapes_reasons_that_quote_file_names():
    assignment = load_assignment()
    report = score("x", [], assignment, error="found <img src=x onerror=alert(1)>.py; expected engine.py").to_json()
    table = rows({"mallory": report}, assignment)
    assert table[0].status.startswith("error: found <img")
    summary = summary_markdown(table, {"mallory": report}, assignment)
    assert "found <img" not in summary and "found &lt;img src=x onerror=alert(1)&gt;.py" in summary


# ---- interrupted runs: Ctrl-C, SIGTERM, kill -9, a worker dying ------------------------------------------

INTERRUPTED_CLASS = ["ref_1", "ref_2", "ref_3", "ref_slow", "tmpl_1", "tmpl_2", "tmpl_3", "tmpl_4"]
# Appended to ref_slow's engine: its chunk is still being graded long after the other chunk is done.
SLOW_IMPORT = "\nimport time\ntime.sleep(8)\n"


def interrupted_class(root: Path) -> Path:
    """ref_*: the reference (full marks); tmpl_*: the student template (not started); ref_slow: the
    reference, slow to import."""
    for name in INTERRUPTED_CLASS:
        shutil.copytree(REFERENCE_DIR if name.startswith("ref") else TEMPLATE, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (root / "ref_slow" / "micrograd" / "engine.py").write_text(engine_source() + SLOW_IMPORT, encoding="utf-8")
    return root


@pytest.fixture
def run_env(tmp_path):
    """The environment of a `micrograde grade` subprocess. Its temporary folders are made in this test's
    folder, so each process of the run (the workers, their sandbox servers and children) names that
    folder in its command line or environment; whatever is still running at the end is killed."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    yield {**os.environ, "TMPDIR": str(tmp)}
    for pid in batch_tools.processes_naming(str(tmp)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def grade_command(klass: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(klass), "--out", str(out), "-j", "2"]


def start_and_wait_for_reports(klass: Path, out: Path, env: dict, at_least: int = 2) -> subprocess.Popen:
    """Start grading in a process group of its own (as a shell runs a command); return once `at_least`
    students have their report.json."""
    run = subprocess.Popen(grade_command(klass, out), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 300  # only against a hang: the first reports come within seconds
    while len(list(out.glob("students/*/report.json"))) < at_least:
        if run.poll() is not None or time.monotonic() > deadline:
            run.kill()
            pytest.fail(f"the run ended or hung before {at_least} reports existed: {run.communicate()}")
        time.sleep(0.05)
    return run


def finished_students(out: Path) -> list[str]:
    """Students whose files were all written (state.json comes last)."""
    return sorted(p.parent.name for p in out.glob("students/*/state.json"))


def assert_reports_whole(out: Path) -> None:
    for report in out.glob("students/*/report.json"):
        assert json.loads(report.read_text(encoding="utf-8"))["max_score"] == 100, report


def rerun_grades_the_rest(klass: Path, out: Path, env: dict, finished: list[str], template_score: str) -> None:
    # ref_slow was not finished, so the rerun grades it whatever it holds: without the delay, it is quick.
    (klass / "ref_slow" / "micrograd" / "engine.py").write_text(engine_source(), encoding="utf-8")
    rerun = subprocess.run(grade_command(klass, out), cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{8 - len(finished)} graded, 0 could not be graded, {len(finished)} skipped" in rerun.stdout
    rows = {r["student"]: (r["score"], r["status"]) for r in gradebook(out)}
    assert rows == {name: ("100", "graded") if name.startswith("ref") else (template_score, "not started")
                    for name in INTERRUPTED_CLASS}
    assert finished_students(out) == INTERRUPTED_CLASS
    assert not list(out.rglob(".*.tmp"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_keeps_what_finished_and_the_rerun_grades_the_rest(signum, tmp_path, run_env, graded):
    klass, out = interrupted_class(tmp_path / "class"), tmp_path / "out"
    run = start_and_wait_for_reports(klass, out, run_env)
    os.killpg(run.pid, signum)  # Ctrl-C in a terminal signals the whole foreground process group
    _, stderr = run.communicate(timeout=120)

    assert run.returncode == 130, stderr
    finished = finished_students(out)
    assert 2 <= len(finished) < 8 and "ref_slow" not in finished
    assert (f"micrograde grade: interrupted; {len(finished)} of the 8 submissions to grade are graded and saved"
            in stderr), stderr
    assert "Run the same command again to grade the rest." in stderr
    assert_reports_whole(out)
    assert {r["student"] for r in gradebook(out)} == {p.parent.name for p in out.glob("students/*/report.json")}

    template_score = {r["student"]: r["score"] for r in gradebook(graded)}["bob"]
    rerun_grades_the_rest(klass, out, run_env, finished, template_score)
    assert batch_tools.left_running(run_env["TMPDIR"]) == []


def test_ctrl_c_prints_no_traceback(tmp_path, run_env):
    out = tmp_path / "out"
    run = start_and_wait_for_reports(interrupted_class(tmp_path / "class"), out, run_env)
    os.killpg(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("micrograde grade: interrupted; ")
    assert batch_tools.left_running(run_env["TMPDIR"]) == []


def test_kill_9_loses_only_unfinished_work(tmp_path, run_env, graded):
    klass, out = interrupted_class(tmp_path / "class"), tmp_path / "out"
    run = start_and_wait_for_reports(klass, out, run_env)
    os.killpg(run.pid, signal.SIGKILL)
    run.communicate(timeout=120)
    assert run.returncode == -signal.SIGKILL

    finished = finished_students(out)
    assert 2 <= len(finished) < 8 and "ref_slow" not in finished
    assert_reports_whole(out)
    template_score = {r["student"]: r["score"] for r in gradebook(graded)}["bob"]
    rerun_grades_the_rest(klass, out, run_env, finished, template_score)
    assert batch_tools.left_running(run_env["TMPDIR"]) == []


def test_a_worker_that_dies_costs_only_the_submission_it_was_grading(monkeypatch, tmp_path):
    # grade_entries hands `runner.grade_chunk` to its spawned workers by module and name, so a function of
    # a module they can import stands in for it there.
    monkeypatch.setattr(runner, "grade_chunk", batch_tools.grade_chunk_killing_its_worker)
    ids = ["a", "b", batch_tools.VICTIM, "d", "e", "f"]
    got: dict[str, list] = {}
    before = batch_tools.spawned_children()
    runner.grade_entries([Entry(i, tmp_path / i) for i in ids], load_assignment(), 2,
                         lambda entry, result, _seconds: got.setdefault(entry.id, []).append(result), chunk_size=3)

    assert sorted(got) == sorted(ids) and all(len(results) == 1 for results in got.values())
    victim = got.pop(batch_tools.VICTIM)[0]
    assert victim.status == "error" and "worker process died" in victim.error and victim.score == 0
    for student, (result,) in got.items():
        assert result.status == "graded" and result.notes[0].startswith("graded in process"), student
    assert batch_tools.spawned_children() - before == set()


# ---- the small things: output folder, empty class, counts, ETA, grader key ------------------------------

def test_an_output_folder_inside_the_submissions_is_not_a_student(klass, tmp_path, capsys):
    inside = tmp_path / "class"
    shutil.copytree(klass, inside)
    for _run in range(2):
        code, _stdout, stderr = grade(capsys, inside, "--out", inside / "grades")
        assert code == 0
    assert "6 submissions" in stderr and "grades" not in {r["student"] for r in gradebook(inside / "grades")}


def test_an_empty_submissions_folder_says_so_and_exits_2(tmp_path):
    (tmp_path / "empty").mkdir()
    run = subprocess.run([sys.executable, "-m", "grader", "grade", str(tmp_path / "empty"), "--out",
                          str(tmp_path / "o")], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 2 and "holds no submissions" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "o" / "gradebook.csv").exists()


def test_a_shard_says_how_many_of_the_class_it_grades(klass, tmp_path, capsys):
    code, _, stderr = grade(capsys, klass, "--out", tmp_path / "s", "--shard", "1/2")
    assert code == 0 and "3 of 6 submissions (shard 1/2)" in stderr


def test_eta_counts_from_the_first_result_not_the_start(monkeypatch):
    from grader.batch import progress as progress_module

    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    progress = progress_module.Progress(100)
    clock[0] = 130.0  # 30 s of start-up before anything is graded
    for _ in range(2):
        progress.advance("x")  # the first chunk's results arrive together
    assert progress.eta_seconds(clock[0]) is None, "no ETA from the first burst alone"
    for step in range(1, 5):
        clock[0] = 130.0 + step
        progress.advance("x")
    # 4 submissions in 4 s since the first results: 94 left take 94 s (counting start-up would say ~600 s).
    assert progress.eta_seconds(clock[0]) == pytest.approx(94.0)


def test_the_grader_key_covers_the_grading_code_and_the_reference(monkeypatch, tmp_path):
    from grader.batch import store

    sources = dict(store._grading_sources())
    package = Path(store.__file__).resolve().parent.parent
    for module in ("probes", "judge", "checks", "sandbox", "score.py"):
        assert sources[f"grader/{module}"] == package / module
    assert sources["reference"] == REFERENCE_DIR / "micrograd"
    assert "grader/data" in sources, "the student edition's reference answers live there"

    assignment = load_assignment()
    fake = {name: tmp_path / name.replace("/", "_") for name in ("grader/probes", "reference")}
    for folder in fake.values():
        folder.mkdir()
        (folder / "plan.py").write_text("PLAN = 1\n", encoding="utf-8")
    monkeypatch.setattr(store, "_grading_sources", lambda: list(fake.items()))
    before = store.grader_key(assignment)
    assert store.grader_key(assignment) == before
    (fake["grader/probes"] / "plan.py").write_text("PLAN = 2\n", encoding="utf-8")
    after_plan = store.grader_key(assignment)
    (fake["reference"] / "plan.py").write_text("PLAN = 3\n", encoding="utf-8")
    after_reference = store.grader_key(assignment)
    (fake["reference"] / "notes.txt").write_text("not code\n", encoding="utf-8")
    assert len({before, after_plan, after_reference}) == 3 and store.grader_key(assignment) == after_reference


def test_every_module_that_decides_a_grade_is_in_the_graders_key():
    """A report is reused while the grader's key is unchanged: a module grading imports but the key leaves
    out would keep stale grades after it changed."""
    from grader.batch.store import GRADING_MODULES

    code = ("import sys, grader.pipeline\nfrom grader.report import FORMATS, renderer\n"
            "[renderer(name) for name in FORMATS]\n"
            "print(' '.join(sorted({m.split('.')[1] for m in sys.modules if m.startswith('grader.')})))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              cwd=ROOT).stdout.split()
    covered = {name.removesuffix(".py") for name in GRADING_MODULES}
    # Where files are, and when a hand-in was submitted (the course policy applies it after grading).
    decides_no_grade = {"paths", "gitmeta"}
    assert set(imported) - decides_no_grade <= covered, set(imported) - decides_no_grade - covered
