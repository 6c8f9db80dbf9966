"""The grader's flow for one or many submissions: load → probe in a sandboxed child → judge → score.

Student code runs only inside `grader.sandbox`; this process sees plain numbers and the reference.
Probing is per submission; judging runs one pytest session over many submissions at once.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment, load_assignment
from grader.judge.evidence import Evidence
from grader.judge.session import run_checks
from grader.load import Submission, SubmissionError, load_submission
from grader.probes.plan import build_plan, stage_probes
from grader.reference import kit_source, reference_results
from grader.sandbox.process import Limits, run_child, sandbox
from grader.score import GradeResult, score


@dataclass
class Probed:
    """One submission after its child runs: evidence to judge, or the reason it could not be read."""
    name: str
    evidence: Evidence | None
    notes: list[str]
    output: str = ""
    error: str | None = None


def probe_submission(path: Path, name: str | None = None, limits: Limits | None = None) -> Probed:
    """Load and probe one submission in a private temporary folder, removed afterwards."""
    name = name or Path(path).name
    limits = limits or Limits()
    workdir = sandbox().workdir()
    try:
        try:
            submission = load_submission(Path(path), workdir / "load")
        except SubmissionError as exc:
            return Probed(name, None, [], error=str(exc))
        plan = list(build_plan())
        results: dict[str, dict] = {}
        output, load = "", {}
        for stage, kit in (("engine", None), ("train", kit_source())):
            probes = stage_probes(stage)
            run = run_child(submission.staged, submission.kind, probes, kit_source=kit, limits=limits)
            results.update({probes[i]["id"]: result for i, result in run.results.items()})
            output += run.output
            load = load or (run.load or {})
        notes = list(submission.notes) + load_problems(load, submission)
        evidence = Evidence(plan, results, reference_results(), locate=locator(submission), load=load)
        return Probed(name, evidence, notes, output=output)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def locator(submission: Submission):
    def locate(path: str, line: int) -> tuple[str, int]:
        return submission.locate(path, line)
    return locate


def load_problems(load: dict, submission: Submission) -> list[str]:
    """Import failures, as notes naming the student's file and line."""
    notes = []
    for problem in load.get("problems", []) if isinstance(load, dict) else []:
        if problem.get("module") == "the sandbox" and isinstance(problem.get("note"), str):
            notes.append(problem["note"])
            continue
        where = problem.get("where")
        place = ""
        if (isinstance(where, list) and len(where) == 2 and isinstance(where[0], str)
                and isinstance(where[1], int) and not isinstance(where[1], bool)):
            file, line = submission.locate(where[0], where[1])
            place = f"{file}:{line}: "
        when = "on the results pipe" if problem.get("module") == "the results pipe" else "while loading"
        notes.append(f"{place}{problem.get('type', 'Error')} {when}: {str(problem.get('message', ''))[:200]}")
    return notes


def judge(probed: list[Probed], assignment: Assignment) -> list[GradeResult]:
    """Score probed submissions in one pytest session; unreadable ones get zero with their reason."""
    evidences = {p.name: p.evidence for p in probed if p.evidence is not None}
    raw = run_checks(evidences) if evidences else []
    by_submission: dict[str, list[dict]] = {}
    for entry in raw:
        by_submission.setdefault(entry["metadata"]["submission"], []).append(entry)
    results = []
    for p in probed:
        if p.evidence is None:
            result = score(p.name, [], assignment, notes=p.notes, error=p.error)
        else:
            result = score(p.name, by_submission.get(p.name, []), assignment, notes=p.notes, output=p.output)
        results.append(result)
    return results


def grade_one(path: Path, assignment: Assignment | None = None, limits: Limits | None = None) -> GradeResult:
    return judge([probe_submission(path, limits=limits)], assignment or load_assignment())[0]
