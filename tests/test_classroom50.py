"""Classroom 50: the result.json micrograde writes is valid against Classroom 50's published schema
(tests/schemas/classroom50-result-v1.schema.json), with integer points, the runner's identity and the
submission instant; the bundle `micrograde classroom50 build` writes grades a fake student checkout with the
runner's environment, installing only the wheel the bundle carries; and `micrograde grade` reads what
`gh teacher download` collects."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import install_tools
import jsonschema
import pytest

from grader.assignment import load_assignment
from grader.cli import main
from grader.paths import REFERENCE_DIR
from grader.report import render
from grader.report.classroom50 import whole_points
from grader.score import score

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "classroom50-result-v1.schema.json").read_text())
OVERWRITE_BUG = ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad")
COMMIT_DATE = "2026-11-30T21:15:07+01:00"  # 20:15:07 UTC
RUNNER_ENV = {"CLASSROOM": "cs-autodiff", "ASSIGNMENT": "micrograd", "OWNER": "octocat",
              "SUBMISSION_TAG": "submit/2026-11-30T20-15-09Z-abc1234", "ASSIGNMENT_TYPE": "individual",
              "COMMIT_URL": "https://github.com/org/cs-autodiff-micrograd-octocat/commit/abc1234",
              "RELEASE_URL": "https://github.com/org/cs-autodiff-micrograd-octocat/releases/tag/submit%2F2026",
              "REVIEW_URL": "https://github.com/org/cs-autodiff-micrograd-octocat/compare/base...abc1234"}


def validate(document: dict) -> None:
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    # What the schema cannot say and Classroom 50 checks in code.
    assert document["score"] <= document["max-score"]
    assert all(t["score"] <= t["max-score"] for t in document["tests"])
    assert document["score"] == sum(t["score"] for t in document["tests"])


def buggy_checkout(folder: Path) -> Path:
    shutil.copytree(REFERENCE_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    engine = folder / "micrograd" / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8").replace(*OVERWRITE_BUG), encoding="utf-8")
    git = ["git", "-c", "user.name=Octo Cat", "-c", "user.email=octo@example.edu", "-c", "init.defaultBranch=main"]
    env = {**os.environ, "GIT_COMMITTER_DATE": COMMIT_DATE, "GIT_AUTHOR_DATE": COMMIT_DATE}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "my engine"]):
        subprocess.run([*git, *command], cwd=folder, env=env, check=True, capture_output=True, timeout=60)
    return folder


def test_the_schema_is_really_checking():
    with pytest.raises(jsonschema.ValidationError):
        validate({"schema": "classroom50/result/v1", "score": 1.5})


def test_whole_points_never_exceed_the_part():
    assert whole_points(7.5, 10) == (8, 10)
    assert whole_points(9.99, 10) == (10, 10)
    assert whole_points(0.4, 10) == (0, 10)
    assert whole_points(15, 15) == (15, 15)


def test_format_classroom50_is_valid_with_the_runner_identity_and_feedback(tmp_path):
    checkout = buggy_checkout(tmp_path / "checkout")
    done = subprocess.run([sys.executable, "-m", "grader", "check", ".", "--format", "classroom50"], cwd=checkout,
                          env={**os.environ, **RUNNER_ENV}, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    validate(result)
    assert (result["classroom"], result["owner"], result["submission"]) == ("cs-autodiff", "octocat",
                                                                             RUNNER_ENV["SUBMISSION_TAG"])
    assert result["review"] == RUNNER_ENV["REVIEW_URL"] and result["max-score"] == 100
    assert result["datetime"] == "2026-11-30T20:15:07Z", "the graded commit's committer date, in UTC"
    mul = next(t for t in result["tests"] if t["part"] == "mul")
    assert mul["passed"] is False and mul["score"] < mul["max-score"] and mul["where"].startswith("micrograd/engine.py:")
    assert mul["diagnosis"] and mul["message"] and mul["hint"] and mul["expected"] and mul["got"]
    add = next(t for t in result["tests"] if t["part"] == "add")
    assert add["passed"] is True and add["score"] == add["max-score"] == 10 and "message" not in add


def test_an_unreadable_submission_is_still_a_valid_result(tmp_path):
    assignment = load_assignment()
    result = json.loads(render(score("x", [], assignment, error="x is empty"), "classroom50", env={},
                               checkout=tmp_path))
    validate(result)
    assert result["score"] == 0 and result["max-score"] == 100
    assert all(t["message"] == "x is empty" and not t["passed"] for t in result["tests"])
    assert result["owner"] == "local" and result["submission"] == "submit/local"


def test_bundle_grades_a_fake_checkout_with_the_runner_environment(tmp_path, capsys):
    config = tmp_path / "classroom50"
    assert main(["classroom50", "build", "--out", str(config), "--classroom", "cs-autodiff", "--slug", "micrograd"]) == 0
    bundle = config / "cs-autodiff" / "autograders" / "micrograd"
    assert sorted(p.suffix for p in bundle.iterdir()) == [".py", ".whl"]
    assert not any("reference/" in name for name in _wheel_names(next(bundle.glob("*.whl"))))

    checkout = buggy_checkout(tmp_path / "cs-autodiff-micrograd-octocat")
    python = install_tools.clean_python(tmp_path / "runner-python")
    env = install_tools.offline_env(python, **RUNNER_ENV, GITHUB_ACTIONS="true")
    first = None
    for _regrade in range(2):
        done = subprocess.run([str(python), str(bundle / "autograder.py")], cwd=checkout, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        result = json.loads((checkout / "result.json").read_text(encoding="utf-8"))
        validate(result)
        first = first or result
        assert result == first, "a regrade of the same commit gives the same result, datetime included"
    assert install_tools.grader_location(python, env, checkout).is_relative_to(tmp_path / "runner-python")
    assert result["owner"] == "octocat" and result["datetime"] == "2026-11-30T20:15:07Z"
    assert 0 < result["score"] < 100
    body = (checkout / "release-body.md").read_text(encoding="utf-8")
    mul = next(t for t in result["tests"] if t["part"] == "mul")
    assert body.startswith("# micrograde · cs-autodiff-micrograd-octocat") and "\n## mul: " in body
    assert mul["hint"] in body


def test_a_tampered_bundle_wheel_is_an_infrastructure_error(tmp_path, capsys):
    config = tmp_path / "classroom50"
    assert main(["classroom50", "build", "--out", str(config), "--classroom", "cs-autodiff", "--slug", "hw1"]) == 0
    bundle = config / "cs-autodiff" / "autograders" / "hw1"
    wheel = next(bundle.glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    done = subprocess.run([sys.executable, str(bundle / "autograder.py")], cwd=checkout, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1 and "is not the wheel" in done.stderr
    assert not (checkout / "result.json").exists()


@pytest.mark.parametrize("args, words", [(["--classroom", "CS 101", "--slug", "hw"], "--classroom"),
                                         (["--classroom", "cs", "--slug", "../x"], "--slug")])
def test_build_refuses_names_classroom50_would_not_use(tmp_path, capsys, args, words):
    assert main(["classroom50", "build", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def _wheel_names(wheel: Path) -> list[str]:
    import zipfile
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_grade_reads_the_collected_layout(tmp_path, capsys):
    """`gh teacher download` clones <classroom>-<assignment>-<username>/ with result.json, plus scores.csv."""
    root = tmp_path / "download"
    for user, when in (("octocat", "2026-11-30T20:15:07Z"), ("monalisa", "2026-12-02T08:00:00Z")):
        clone = root / f"cs-autodiff-micrograd-{user}"
        shutil.copytree(REFERENCE_DIR / "micrograd", clone / "micrograd", ignore=shutil.ignore_patterns("__pycache__"))
        (clone / "result.json").write_text(json.dumps({"schema": "classroom50/result/v1", "owner": user,
                                                       "datetime": when, "submission": "submit/x"}), encoding="utf-8")
    (root / "scores.csv").write_text("username,score\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["grade", str(root), "--out", str(out), "-j", "1"]) == 0
    captured = capsys.readouterr()
    assert "(classroom50 layout)" in captured.err
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"octocat", "monalisa"}
    assert rows["monalisa"]["submitted_at"] == "2026-12-02T08:00:00Z" and rows["octocat"]["score"] == "100"


def test_the_student_edition_cannot_build_a_bundle(tmp_path):
    """The wheel a bundle ships holds no builder: asking it for a bundle is a one-line error, not a traceback."""
    config = tmp_path / "classroom50"
    assert main(["classroom50", "build", "--out", str(config), "--classroom", "cs-x", "--slug", "hw"]) == 0
    python = install_tools.clean_python(tmp_path / "student-python")
    env = install_tools.offline_env(python)
    wheel = next((config / "cs-x" / "autograders" / "hw").glob("*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], env=env, check=True, timeout=300)
    done = subprocess.run([str(python.parent / "micrograde"), "classroom50", "build", "--classroom", "cs-x", "--slug",
                           "hw", "--out", str(tmp_path / "again")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2 and "instructor's checkout" in done.stderr and "Traceback" not in done.stderr
