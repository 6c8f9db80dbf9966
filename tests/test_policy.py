"""Course policy: due date, late penalty, extensions and overrides declared in small files next to the
submissions, applied to the gradebook with an audit column; submission times from the export, fixed
across regrades; what an export says about its students (names, emails) in the gradebook."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.batch.policy import PolicyError, apply, load_policy
from grader.batch.submissions import find_submissions, gradescope_metadata, utc_instant
from grader.cli import main
from grader.paths import REFERENCE_DIR

POLICY = """\
due = "2026-12-01T23:59:00Z"
grace_minutes = 10
[late]
percent_per_day = 10
max_days = 3
"""


def policy_in(folder: Path, toml: str = POLICY, extensions: str | None = None, overrides: str | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course-policy.toml").write_text(toml, encoding="utf-8")
    if extensions is not None:
        (folder / "extensions.csv").write_text(extensions, encoding="utf-8")
    if overrides is not None:
        (folder / "overrides.csv").write_text(overrides, encoding="utf-8")
    return load_policy(folder)


def test_late_days_are_started_days_after_the_grace(tmp_path):
    policy = policy_in(tmp_path)
    on_time = apply(policy, "a", 80, 100, "graded", "2026-12-02T00:08:00Z")
    assert (on_time.score, on_time.audit) == (80, "")
    one_day = apply(policy, "a", 80, 100, "graded", "2026-12-02T00:10:00Z")
    assert one_day.score == 72 and one_day.audit.startswith("late 1 day (submitted 2026-12-02T00:10:00Z, due ")
    assert "-10%, 72 instead of 80" in one_day.audit
    three = apply(policy, "a", 80, 100, "graded", "2026-12-04T12:00:00Z")
    assert three.score == 56 and "late 3 days" in three.audit
    four = apply(policy, "a", 80, 100, "graded", "2026-12-05T12:00:00Z")
    assert four.score == 0 and "more than the 3 accepted" in four.audit


def test_extensions_and_overrides(tmp_path):
    policy = policy_in(tmp_path, extensions="student,due,reason\nbob,2026-12-04T23:59:00Z,illness\n",
                       overrides="student,score,reason\ndave,95,regrade request 12\n")
    bob = apply(policy, "bob", 80, 100, "graded", "2026-12-04T10:00:00Z")
    assert bob.score == 80 and bob.audit == "on time; extension to 2026-12-04T23:59:00Z (illness)"
    dave = apply(policy, "dave", 40, 100, "graded", "2026-12-09T10:00:00Z")
    assert dave.score == 95 and dave.audit == "override: 95 instead of the graded 40 (regrade request 12)"
    days = policy_in(tmp_path / "days", extensions="student,days,reason\nerin,2,travel\n")
    assert apply(days, "erin", 50, 100, "graded", "2026-12-03T20:00:00Z").score == 50


def test_errors_are_not_penalised_and_a_missing_time_is_said(tmp_path):
    policy = policy_in(tmp_path)
    assert apply(policy, "a", 0, 100, "error: empty", "2026-12-09T00:00:00Z").audit == ""
    unknown = apply(policy, "a", 70, 100, "graded", None)
    assert unknown.score == 70 and unknown.audit == "no submission time in the export: no late rule applied"
    garbled = apply(policy, "a", 70, 100, "graded", "last tuesday")
    assert garbled.score == 70 and "unreadable: no late rule applied" in garbled.audit


@pytest.mark.parametrize("toml, extensions, words", [
    ('due = "2026-12-01T23:59:00"\n', None, "has no time zone"),
    ('due = "tomorrow"\n', None, "is not a date-time"),
    ('[late]\npercent_per_day = 10\n', None, "needs a due date"),
    ('due = "2026-12-01T23:59:00Z"\n[late]\npercent_per_day = 150\n', None, "at most 100"),
    ('dew = "2026-12-01T23:59:00Z"\n', None, "unknown setting 'dew'"),
    ('due = "2026-12-01T23:59:00Z"\n', "student,when\nbob,x\n", "the columns are"),
    ('due = "2026-12-01T23:59:00Z"\n', "student,days\nbob,-1\n", "extensions.csv:2: days must be a number of 0"),
    ('due = "2026-12-01T23:59:00Z"\n', "student,days\nbob,1\nbob,2\n", "extensions.csv:3: bob is listed twice"),
])
def test_bad_policy_files_name_the_file_and_line(tmp_path, toml, extensions, words):
    with pytest.raises(PolicyError, match=words.replace("(", r"\(")):
        policy_in(tmp_path, toml, extensions)


def test_bad_policy_is_one_line_exit_2(tmp_path):
    klass = tmp_path / "class"
    shutil.copytree(REFERENCE_DIR, klass / "alice", ignore=shutil.ignore_patterns("__pycache__"))
    (klass / ".micrograde").mkdir()
    (klass / ".micrograde" / "course-policy.toml").write_text('due = "soon"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(klass), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2 and "course-policy.toml" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


GRADESCOPE_METADATA = """\
---
submission_111:
  :submitters:
  - :name: Jane Smith
    :sid: 'js42'
    :email: jane@x.edu
  - :name: Partner Person
    :sid: 'pp1'
    :email: pp@x.edu
  :created_at: 2026-12-02 01:30:00.000000000 +01:00
  :history:
  - :id: 5
    :created_at: 2026-11-20 10:00:00.000000000 +01:00
submission_222:
  :submitters:
  - :name: John Doe
    :email: john@x.edu
  :created_at: 2026-12-03 12:00:05.123456000 -08:00
"""


def test_gradescope_metadata_gives_names_emails_and_times():
    found = gradescope_metadata_from(GRADESCOPE_METADATA)
    assert found["submission_111"] == {"sid": "js42", "name": "Jane Smith", "email": "jane@x.edu",
                                       "submitted_at": "2026-12-02T00:30:00Z",
                                       "submitted_from": "Gradescope submission_metadata.yml"}
    assert found["submission_222"]["submitted_at"] == "2026-12-03T20:00:05Z" and "sid" not in found["submission_222"]


def gradescope_metadata_from(text: str) -> dict:
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "submission_metadata.yml"
        path.write_text(text, encoding="utf-8")
        return gradescope_metadata(path)


def test_utc_instants():
    assert utc_instant("2026-12-02T01:30:00+01:00") == "2026-12-02T00:30:00Z"
    assert utc_instant("2026-12-02 01:30:00.5 +0100") == "2026-12-02T00:30:00Z"
    assert utc_instant("2026-12-02T01:30:00") == "2026-12-02T01:30:00Z"
    assert utc_instant("yesterday") is None and utc_instant("2026-13-02T01:30:00Z") is None


def test_git_clones_are_timed_by_their_submit_tag_or_last_commit(tmp_path):
    root = tmp_path / "hw-submissions"
    for user, tag in (("octocat", "submit/2026-12-01T22-00-00Z-abc1234"), ("monalisa", None)):
        clone = root / f"hw-{user}"
        shutil.copytree(REFERENCE_DIR / "micrograd", clone / "micrograd", ignore=shutil.ignore_patterns("__pycache__"))
        env = {**os.environ, "GIT_COMMITTER_DATE": "2026-12-02T10:00:00Z", "GIT_AUTHOR_DATE": "2026-12-02T10:00:00Z"}
        git = ["git", "-c", "user.name=s", "-c", "user.email=s@x.edu"]
        for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "x"], *([["tag", tag]] if tag else [])):
            subprocess.run([*git, *command], cwd=clone, env=env, check=True, capture_output=True, timeout=60)
    layout, entries = find_submissions(root, tmp_path / "work")
    info = {e.id: e.info for e in entries}
    assert layout == "classroom"
    assert info["octocat"]["submitted_at"] == "2026-12-01T22:00:00Z" and "submit/" in info["octocat"]["submitted_from"]
    assert info["monalisa"] == {"submitted_at": "2026-12-02T10:00:00Z", "submitted_from": "git commit date"}


def test_a_gradescope_export_graded_with_policy_files_gets_names_audit_and_fixed_times(tmp_path, capsys):
    export = tmp_path / "export"
    for folder in ("submission_111", "submission_222"):
        shutil.copytree(REFERENCE_DIR / "micrograd", export / folder / "micrograd",
                        ignore=shutil.ignore_patterns("__pycache__"))
    (export / "submission_metadata.yml").write_text(GRADESCOPE_METADATA, encoding="utf-8")
    policy_in(export / ".micrograde", POLICY, overrides="student,score,reason\nnobody,1,typo\n")
    out = tmp_path / "out"
    assert main(["grade", str(export), "--out", str(out), "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "the course policy names nobody, who is not in the class" in err

    def gradebook() -> dict[str, dict]:
        with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
            return {row["student"]: row for row in csv.DictReader(f)}

    rows = gradebook()
    assert (rows["js42"]["name"], rows["js42"]["email"]) == ("Jane Smith", "jane@x.edu")
    # Due 23:59, 10 minutes' grace: 00:30 the next day is one started day late.
    assert rows["js42"]["score"] == "90" and rows["js42"]["audit"].startswith("late 1 day (submitted 2026-12-02T00:30:00Z")
    john = rows["222"]
    assert john["submitted_at"] == "2026-12-03T20:00:05Z" and john["graded_score"] == "100"
    assert john["score"] == "80" and john["audit"].startswith("late 2 days")
    # Graded again later (files touched, forced), the same export gives the same times and the same audit.
    time.sleep(1)
    for file in export.rglob("*.py"):
        file.touch()
    assert main(["grade", str(export), "--out", str(out), "-j", "1", "--force"]) == 0
    capsys.readouterr()
    assert gradebook() == rows
    assert main(["merge", str(out), "--out", str(tmp_path / "merged")]) == 0
    capsys.readouterr()
    with (tmp_path / "merged" / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        assert {row["student"]: row for row in csv.DictReader(f)} == rows, "merge applies the saved policy"


def test_canvas_files_carry_the_canvas_id_and_late_mark(tmp_path):
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    engine = (REFERENCE_DIR / "micrograd" / "engine.py").read_text(encoding="utf-8")
    (canvas / "doejohn_late_42_99_engine.py").write_text(engine, encoding="utf-8")
    stamp = 1_764_633_600  # 2025-12-02T00:00:00Z
    os.utime(canvas / "doejohn_late_42_99_engine.py", (stamp, stamp))
    (canvas / "course-policy.toml").write_text('due = "2025-12-01T00:00:00Z"\n', encoding="utf-8")
    layout, entries = find_submissions(canvas, tmp_path / "work")
    assert layout == "canvas", "the policy file does not hide the Canvas layout"
    assert entries[0].info == {"canvas_id": "42", "late_mark": "Canvas marked it late",
                               "submitted_at": "2025-12-02T00:00:00Z", "submitted_from": "Canvas export file time"}


def test_a_zipped_canvas_export_keeps_its_submission_times_across_regrades(tmp_path):
    from grader.batch.submissions import unpack_class_zip

    archive = tmp_path / "submissions.zip"
    engine = (REFERENCE_DIR / "micrograd" / "engine.py").read_text(encoding="utf-8")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("doejohn_42_99_engine.py", (2026, 12, 2, 9, 30, 0)), engine)
    found = []
    for run in ("first", "second"):
        root = unpack_class_zip(archive, tmp_path / run / "unpacked")
        _, entries = find_submissions(root, tmp_path / run)
        found.append(entries[0].info["submitted_at"])
        time.sleep(1)
    assert found == ["2026-12-02T09:30:00Z", "2026-12-02T09:30:00Z"]
