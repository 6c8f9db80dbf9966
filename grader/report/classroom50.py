"""Classroom 50's result.json (schema "classroom50/result/v1"): what its runner reads from the student's
checkout after the course's `autograders/ASSIGNMENT/autograder.py` has run there.

Classroom 50 takes integer points: one test per part, its points rounded to the nearest whole point (never
above the part's), the total their sum. The identity fields come from the runner's environment (CLASSROOM,
ASSIGNMENT, OWNER, SUBMISSION_TAG, COMMIT_URL, RELEASE_URL, REVIEW_URL, ASSIGNMENT_TYPE); outside the runner
they read "local". `datetime` is the submission instant, which must not move when the submission is graded
again: the graded commit's committer date (git), else the instant in the submit tag. The teaching feedback
(diagnosis, message, case, expected and got, hint, file:line) is in each test's extra fields, which
Classroom 50 keeps as they are; `release_body` is the Markdown report for the submission's release.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from grader.gitmeta import read_git
from grader.report import render as render_format
from grader.report.github import failed_parts
from grader.report.sanitize import clean
from grader.score import GradeResult

SCHEMA = "classroom50/result/v1"
LOCAL = "local"
SUBMIT_TAG = re.compile(r"^submit/(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z")
FIELD_LIMIT = 2000


def render(result: GradeResult, env: Mapping[str, str] | None = None, checkout: Path | None = None, **_) -> str:
    return json.dumps(results(result, env, checkout), indent=2, ensure_ascii=False) + "\n"


def results(result: GradeResult, env: Mapping[str, str] | None = None, checkout: Path | None = None) -> dict:
    """The result document for one graded submission, identity from `env` (default: the environment)."""
    env = os.environ if env is None else env
    tests = [part_test(result, part) for part in result.parts]
    commit = env.get("COMMIT_URL") or LOCAL
    return {
        "schema": SCHEMA,
        "classroom": env.get("CLASSROOM") or LOCAL,
        "assignment": env.get("ASSIGNMENT") or LOCAL,
        "assignment_type": env.get("ASSIGNMENT_TYPE") if env.get("ASSIGNMENT_TYPE") in ("individual", "group")
        else "individual",
        "owner": env.get("OWNER") or env.get("USERNAME") or LOCAL,
        "submission": env.get("SUBMISSION_TAG") if str(env.get("SUBMISSION_TAG", "")).startswith("submit/")
        else f"submit/{LOCAL}",
        "commit": commit,
        "release": env.get("RELEASE_URL") or LOCAL,
        "review": env.get("REVIEW_URL") or commit,
        "datetime": submission_instant(checkout or Path.cwd(), env.get("SUBMISSION_TAG", "")),
        "score": sum(t["score"] for t in tests),
        "max-score": sum(t["max-score"] for t in tests),
        "tests": tests,
    }


def whole_points(score: float, max_score: float) -> tuple[int, int]:
    """A part's points as integers: the maximum rounded, the score rounded half up and never above it."""
    top = round(max_score)
    return min(top, int(score + 0.5 + 1e-9)), top


def part_test(result: GradeResult, part) -> dict:
    score, top = whole_points(part.score, part.max_score)
    test = {"test-name": f"{part.id}: {part.title}", "passed": part.status == "passed", "score": score,
            "max-score": top, "part": part.id, "status": part.status, "checks-passed": f"{part.passed}/{part.total}"}
    if result.status == "error":
        test["message"] = clean(result.error or "the submission could not be graded", FIELD_LIMIT)
        return test
    first = next((t for p, t in failed_parts(result) if p.id == part.id), None)
    if first is None:
        return test
    if first.hidden:
        # Students read this file's feedback: a hidden check keeps its secret, only its points count.
        test["message"] = "A check the course keeps hidden failed."
        return test
    test["message"] = clean(first.message, FIELD_LIMIT)
    for key in ("diagnosis", "hint", "case"):
        if getattr(first, key):
            test[key] = clean(str(getattr(first, key)), FIELD_LIMIT)
    for key in ("expected", "got"):
        if getattr(first, key) is not None:
            test[key] = clean(str(getattr(first, key)), FIELD_LIMIT)
    if first.file:
        test["where"] = clean(f"{first.file}:{first.line}" if first.line else first.file, 300)
    return test


def release_body(result: GradeResult) -> str:
    """The submission release's text: the student's Markdown report."""
    return render_format(result, "markdown")


def submission_instant(checkout: Path, tag: str = "") -> str:
    """When the graded commit was made (committer date, UTC), the same on every regrade; else the instant in
    the submit tag; else now (a submission outside git and Classroom 50)."""
    commit_time = read_git(checkout).commit_time
    if commit_time is not None:
        return _utc(datetime.fromtimestamp(commit_time, UTC))
    match = SUBMIT_TAG.match(tag or "")
    if match:
        day, hour, minute, second = match.groups()
        return f"{day}T{hour}:{minute}:{second}Z"
    return _utc(datetime.now(UTC))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
