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
from grader.probes.plan import Plan, probe_parts
from grader.probes.shape import CONTRACT
from grader.reference import grading_plan, has_reference, kit_source, reference_results
from grader.sandbox.process import Limits, run_child, sandbox
from grader.score import GradeResult, score
from grader.secret import content_digest, inputs_seed, instructor_secret


@dataclass
class Probed:
    """One submission after its child runs: evidence to judge, or the reason it could not be read."""
    name: str
    evidence: Evidence | None
    notes: list[str]
    output: str = ""
    error: str | None = None


def probe_submission(path: Path, name: str | None = None, limits: Limits | None = None,
                     assignment: Assignment | None = None, parts: tuple[str, ...] | None = None) -> Probed:
    """Load and probe one submission in a private temporary folder, removed afterwards. With `parts`, only
    the probes those parts are judged by are run."""
    name = name or Path(path).name
    limits = limits or Limits()
    assignment = assignment or load_assignment()
    workdir = sandbox().workdir()
    try:
        try:
            submission = load_submission(Path(path), workdir / "load")
        except SubmissionError as exc:
            return Probed(name, None, [], error=str(exc))
        plan = plan_for(assignment, name, submission)
        results: dict[str, dict] = {}
        output, load = "", {}
        for stage, kit in (("engine", None), ("train", kit_source())):
            probes = plan.stage(stage, parts)
            if not probes:
                continue
            run = run_child(submission.staged, submission.kind, probes, kit_source=kit, limits=limits,
                            strict=assignment.strict_names)
            results.update({probes[i]["id"]: result for i, result in run.results.items()})
            output += run.output
            load = load or (run.load or {})
        notes = list(submission.notes) + load_problems(load, submission) + shape_notes(load, assignment)
        probes = [p for p in plan.probes if parts is None or probe_parts(p) & set(parts)]
        evidence = Evidence(probes, results, reference_results(plan), locate=locator(submission), load=load)
        return Probed(name, evidence, notes, output=output)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def plan_for(assignment: Assignment, name: str, submission: Submission) -> Plan:
    """The instructor grades with inputs drawn from its secret for this student and this content; a grader
    shipped without reference/ with one of the secret plans it carries (the Gradescope zip), or with the
    public plan (the student edition, which carries none)."""
    content = content_digest(submission.staged)
    if not has_reference():
        return grading_plan(assignment, inputs_seed(b"pool", assignment.id, name, content))
    secret = instructor_secret(assignment.directory)
    return grading_plan(assignment, inputs_seed(secret, assignment.id, name, content))


def shape_notes(load: dict, assignment: Assignment) -> list[str]:
    """One note naming the engine's own names where they differ from the contract's, and one per
    ambiguity discovery met; under strict names, what to rename."""
    shape = load.get("shape") if isinstance(load, dict) else None
    notes = []
    if isinstance(shape, dict) and isinstance(shape.get("problem"), str):
        words = "strict names: " if assignment.strict_names else ""
        notes.append(f"{words}the engine could not be used: {shape['problem'][:300]}")
    elif isinstance(shape, dict):
        different = [f"{ROLE_WORDS[role]} `{shape[role]}`" for role in ROLE_WORDS
                     if isinstance(shape.get(role), str) and shape[role] != CONTRACT.get(role, shape[role])]
        if shape.get("style") == "local_grads" and isinstance(shape.get("local_grads"), str):
            different.append(f"local gradients stored in `{shape['local_grads']}` (no `_backward` closures)")
        if different:
            notes.append("graded under your engine's own names: " + ", ".join(different) + ".")
    for ambiguity in (load.get("ambiguous") or [])[:5] if isinstance(load, dict) else []:
        if isinstance(ambiguity, str):
            notes.append(f"more than one name fits: {ambiguity[:200]}")
    return notes


ROLE_WORDS = {"value_class": "class", "data": "number in", "grad": "gradient in", "children": "children found in",
              "closure": "backward closures in", "backward": "backpropagation by"}


def locator(submission: Submission):
    def locate(path: str, line: int) -> tuple[str, int]:
        return submission.locate(path, line)
    return locate


def load_problems(load: dict, submission: Submission) -> list[str]:
    """Import failures, as notes naming the student's file and line."""
    notes = []
    for problem in load.get("problems", []) if isinstance(load, dict) else []:
        where = problem.get("where")
        place = ""
        if isinstance(where, list) and len(where) == 2:
            file, line = submission.locate(str(where[0]), int(where[1]))
            place = f"{file}:{line}: "
        notes.append(f"{place}{problem.get('type', 'Error')} while loading: {str(problem.get('message', ''))[:200]}")
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


def grade_one(path: Path, assignment: Assignment | None = None, limits: Limits | None = None,
              parts: tuple[str, ...] | None = None) -> GradeResult:
    assignment = assignment or load_assignment()
    return judge([probe_submission(path, limits=limits, assignment=assignment, parts=parts)], assignment)[0]
