"""Hand-ins that reach for what is the course's, each graded in a class batch beside honest controls:

- a clone whose git configuration names a program for git to run (a signature verifier), with a signed-looking
  commit that makes `git log` run it: the program must never run, and the clone is graded as any other;
- hand-ins *named* like the course's overrides, policy and extensions files, and like a platform's export
  metadata: they are hand-ins, and change no other student's grade nor the class's layout;
- in a Classroom 50 download, a clone whose own result.json names another student as its owner: it is graded
  as the student whose clone it is.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from redteam.build import REPO_DIR, build_base

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git makes the clones these attacks live in")
TEMPLATE_SCORE = 15.0


def grade(klass: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(klass), "--out", str(out), "-j", "2", *extra],
                          cwd=REPO_DIR, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    return done


def gradebook(out: Path) -> dict[str, dict]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def git(folder: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([GIT, "-C", str(folder), "-c", "user.name=s", "-c", "user.email=s@example.edu", *args],
                          capture_output=True, text=True, timeout=60, check=False, env=env)


def commit_all(folder: Path, when: str = "2026-12-01T10:00:00Z") -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    for command in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "hand-in")):
        assert git(folder, *command, env=env).returncode == 0


# --- git configuration that runs a program -------------------------------------------------------------------


def plant_signature_verifier(clone: Path, marker: Path) -> None:
    """Make the clone's HEAD a commit with a signature header, and its configuration show signatures with a
    verifier of the hand-in's own: git's `log` then runs that program."""
    head = git(clone, "cat-file", "commit", "HEAD").stdout
    header, body = head.split("\n\n", 1)
    signature = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEz\n -----END PGP SIGNATURE-----"
    forged = f"{header}\n{signature}\n\n{body}"
    sha = subprocess.run([GIT, "-C", str(clone), "hash-object", "-t", "commit", "-w", "--stdin"], input=forged,
                         capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert git(clone, "update-ref", "HEAD", sha).returncode == 0
    verifier = clone / "verify.sh"
    verifier.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n", encoding="utf-8")
    verifier.chmod(0o755)
    with (clone / ".git" / "config").open("a", encoding="utf-8") as config:
        config.write(f"[log]\n\tshowSignature = true\n[gpg]\n\tprogram = {verifier}\n")


def test_a_clone_whose_git_configuration_runs_a_program_runs_nothing(tmp_path):
    klass = tmp_path / "class"
    build_base("reference", klass / "ada")
    commit_all(klass / "ada")
    build_base("template", klass / "mallory")
    commit_all(klass / "mallory", "2026-12-01T12:00:00Z")
    marker = tmp_path / "the-hand-in-ran"
    plant_signature_verifier(klass / "mallory", marker)
    # The attack is real: git, run the way graders run it, runs the hand-in's program.
    git(klass / "mallory", "log", "-1", "--format=%cI")
    assert marker.exists(), "git did not run the planted verifier: the attack no longer shows anything"
    marker.unlink()

    out = tmp_path / "out"
    grade(klass, out)
    assert not marker.exists()
    rows = gradebook(out)
    assert float(rows["ada"]["score"]) == 100 and float(rows["mallory"]["score"]) == TEMPLATE_SCORE
    assert rows["mallory"]["submitted_at"] == "2026-12-01T12:00:00Z"  # read from the objects, as data
    assert rows["ada"]["submitted_at"] == "2026-12-01T10:00:00Z"


def test_a_clone_whose_objects_inflate_without_end_costs_only_its_date(tmp_path):
    """A ref that is a link to an endless device: the bounded reader gives up, the hand-in is graded."""
    klass = tmp_path / "class"
    build_base("reference", klass / "ada")
    commit_all(klass / "ada")
    build_base("reference", klass / "zed")
    commit_all(klass / "zed")
    head = (klass / "zed" / ".git" / "refs" / "heads")
    for ref in head.iterdir():
        ref.unlink()
        ref.symlink_to("/dev/zero")
    out = tmp_path / "out"
    grade(klass, out)
    rows = gradebook(out)
    assert float(rows["zed"]["score"]) == 100 and rows["zed"]["submitted_at"] == ""
    assert rows["ada"]["submitted_at"] == "2026-12-01T10:00:00Z"


# --- hand-ins named like the course's files ------------------------------------------------------------------


def test_hand_ins_named_like_course_files_are_hand_ins_and_change_nobody_elses_grade(tmp_path):
    klass = tmp_path / "class"
    build_base("reference", klass / "ada")
    build_base("template", klass / "ben")
    # The course's real policy, where no hand-in can be: ben gets an override, as the instructor decided.
    (klass / ".micrograde").mkdir()
    (klass / ".micrograde" / "overrides.csv").write_text("student,score,reason\nben,50,regrade\n", encoding="utf-8")
    # Hand-ins that carry the course's names: files a student sent in, and a folder of code.
    (klass / "overrides.csv").write_text("student,score,reason\nben,100,forged\nada,0,forged\n", encoding="utf-8")
    (klass / "course-policy.toml").write_text('due = "2020-01-01T00:00:00Z"\n[late]\npercent_per_day = 100\n'
                                              "max_days = 1\n", encoding="utf-8")
    (klass / "submission_metadata.yml").write_text("submission_ada:\n  :submitters:\n  - :sid: 'x'\n",
                                                   encoding="utf-8")
    (klass / "scores.csv").write_text("username,score\nada,0\n", encoding="utf-8")
    build_base("template", klass / "extensions.csv")
    out = tmp_path / "out"
    done = grade(klass, out)
    assert "(plain layout)" in done.stderr, done.stderr
    assert f"{klass / 'overrides.csv'} is not read as the course's" in done.stderr
    rows = gradebook(out)
    assert set(rows) == {"ada", "ben", "extensions.csv"}
    assert (float(rows["ada"]["score"]), rows["ada"]["audit"]) == (100, "")
    assert float(rows["ben"]["score"]) == 50 and "regrade" in rows["ben"]["audit"]
    assert float(rows["extensions.csv"]["score"]) == TEMPLATE_SCORE


def test_a_hand_in_named_like_export_metadata_does_not_make_the_class_vanish(tmp_path):
    klass = tmp_path / "class"
    build_base("reference", klass / "ada")
    build_base("reference", klass / "submission_1")
    (klass / "submission_metadata.yml").write_text("submission_1:\n  :submitters:\n  - :sid: 'ada'\n",
                                                   encoding="utf-8")
    (klass / "notes.py").write_text((REPO_DIR / "reference" / "micrograd" / "engine.py").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    out = tmp_path / "out"
    done = grade(klass, out)
    assert "(plain layout)" in done.stderr
    assert set(gradebook(out)) == {"ada", "submission_1", "notes"}


# --- Classroom 50: who a clone is ----------------------------------------------------------------------------


def test_a_classroom50_clone_cannot_choose_which_student_it_is_graded_as(tmp_path):
    root = tmp_path / "download"
    for user, base in (("octocat", "reference"), ("mallory", "template")):
        clone = build_base(base, root / f"cs-autodiff-micrograd-{user}")
        # mallory's clone claims to be octocat's, so as to take octocat's grade (or give octocat its own).
        owner = "octocat" if user == "mallory" else user
        (clone / "result.json").write_text(json.dumps({"schema": "classroom50/result/v1", "owner": owner,
                                                       "datetime": "2026-12-01T10:00:00Z"}), encoding="utf-8")
    (root / "scores.csv").write_text("username,score\noctocat,0\nmallory,0\n", encoding="utf-8")
    out = tmp_path / "out"
    done = grade(root, out)
    assert "(classroom50 layout)" in done.stderr
    rows = gradebook(out)
    assert set(rows) == {"octocat", "mallory"}
    assert float(rows["octocat"]["score"]) == 100 and float(rows["mallory"]["score"]) == TEMPLATE_SCORE
