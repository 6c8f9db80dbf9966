"""The grader's flow for one or many submissions: load → probe in a sandboxed child → judge → score.

Student code runs only inside `grader.sandbox`; this process sees plain numbers and the reference.
Probing is per submission; judging runs one pytest session over many submissions at once.
"""
from __future__ import annotations

import ast
import math
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.assignment import Assignment, load_assignment
from grader.contract import ENGINE_NAMES, NAMES
from grader.judge.evidence import Evidence
from grader.judge.session import run_checks
from grader.judge.statements import read_sources
from grader.load import Submission, SubmissionError, load_submission
from grader.load.notebook import IgnoredCode
from grader.parts import assignment_ops
from grader.probes.plan import Plan, asked_parts
from grader.reference import complete, grading_plan, has_reference, kit_source, reference_answers
from grader.sandbox.process import JobLimits, run_child, sandbox, unanswered
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
    load_problems: list[str] = field(default_factory=list)  # of a notebook's or script's exploration


def probe_submission(path: Path, name: str | None = None, limits: JobLimits | None = None,
                     assignment: Assignment | None = None, parts: Sequence[str] | None = None,
                     public_inputs: bool = False, meanwhile: Callable[[], object] | None = None) -> Probed:
    """Load and probe one submission in a private temporary folder, removed afterwards, with the inputs of
    `plan_for` (or, with `public_inputs`, the public plan students check with). With `parts`, only
    the probes those parts' checks read are asked (every op's own cases, for the blame of ops built on
    others, and the graphs and other probes of those parts). The reference answers them while the first
    child works, and so does `meanwhile`, the caller's own work."""
    name = name or Path(path).name or Path(path).resolve().name
    limits = limits or JobLimits()
    assignment = assignment or load_assignment()
    selection = tuple(sorted(set(parts))) if parts else None
    workdir = sandbox().workdir()
    try:
        try:
            submission = load_submission(Path(path), workdir / "load")
        except SubmissionError as exc:
            return Probed(name, None, [], error=str(exc))
        sources = read_sources(submission.staged, submission.staged_key)
        # The judge always sees the whole plan: a probe not asked has no answer, which only the checks of
        # parts left out read.
        plan = grading_plan(assignment, None) if public_inputs else plan_for(assignment, name, submission)
        children = [(kit, plan.for_child(child, selection))
                    for child, kit in (("engine", None), ("train", kit_source()))]
        asked = [probe["id"] for _, probes in children for probe in probes]

        def while_the_child_works() -> None:
            complete(reference_answers(plan), asked)
            if meanwhile is not None:
                meanwhile()
        results, output, load = ask_children(submission, children, limits, assignment, while_the_child_works)
        sources.only(load.get("modules", []))
        if (broken := syntax_error(load, submission)) is not None:
            return Probed(name, None, [], output=output, error=broken)
        if (failed := load_failure(load, submission, results, sources)) is not None:
            return Probed(name, None, [], output=output, error=failed)
        problems = load_problems(load, submission)
        # A statement of a notebook or script that raised and that the engine does not need: a note, which the
        # live notebook leaves out (its author saw it raise in the kernel).
        quiet = problems if submission.staged_as == "module" else []
        notes = list(submission.notes) + [IgnoredCode(problem) if problem in quiet else problem for problem in problems]
        notes += shape_notes(load, assignment)
        evidence = Evidence(list(plan.probes), results, reference_answers(plan), locate=submission.locate, load=load,
                            sources=sources)
        return Probed(name, evidence, notes, output=output, load_problems=quiet)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def ask_children(submission: Submission, children: list, limits: JobLimits, assignment: Assignment,
                 meanwhile) -> tuple[dict[str, dict], str, dict]:
    """Each child's (kit, probes) answered by a sandboxed child of its own: the answers by probe id, the
    printed output, and what the first child found loading the code (a package that does not compile ends
    it). `meanwhile` is this process's work while the first child runs."""
    results: dict[str, dict] = {}
    output, load = "", {}
    deadline = time.monotonic() + limits.total_seconds  # the submission's, all its children together
    for kit, probes in children:
        if not probes:
            continue
        run = run_child(submission.staged, submission.staged_as, probes, kit_source=kit, limits=limits,
                        strict=assignment.strict_names, meanwhile=meanwhile, deadline=deadline)
        meanwhile = None
        results.update({probes[i]["id"]: result for i, result in run.results.items()})
        output += run.output
        load = load or (run.load or {})
        if syntax_error(load, submission) is not None:
            break
        if not run.loaded:
            # The code never finished loading (it spins or dies on import): another child would only do
            # the same, at the cost of another time limit.
            results.update({probe["id"]: unanswered() for _, later in children for probe in later
                            if probe["id"] not in results})
            break
    return results, output, load


def plan_for(assignment: Assignment, name: str, submission: Submission) -> Plan:
    """The instructor grades with inputs drawn from its secret for this student and this content; a grader
    shipped without reference/ with one of the secret plans it carries (the Gradescope zip), or with the
    public plan (the student edition, which carries none)."""
    content, student = content_digest(submission.staged), student_id(name)
    if not has_reference():
        return grading_plan(assignment, inputs_seed(b"pool", assignment.id, student, content))
    secret = instructor_secret(assignment.secret_dir)
    return grading_plan(assignment, inputs_seed(secret, assignment.id, student, content))


def student_id(name: str) -> str:
    """A submission's student as the batch names it: `carol.zip`, `carol.py` and `carol` are one student, so
    `micrograde check carol.zip` and a class graded with it give the same inputs and the same report."""
    path = Path(name)
    return path.stem if path.suffix in (".zip", ".py", ".ipynb") else name


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
                     if isinstance(shape.get(role), str) and shape[role] != ENGINE_NAMES.get(role, shape[role])]
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


def judged_parts(assignment: Assignment, parts: Sequence[str] | None) -> set[str] | None:
    """The parts whose checks run when `parts` are asked for: those, and every op when one is an op, since
    the probes of a selection hold every op's own cases (a part waits for an op not started only if that op
    is judged too). None: all of them."""
    return None if not parts else asked_parts(assignment_ops(p.id for p in assignment.parts), parts)


def only_parts(result: GradeResult, parts: Sequence[str]) -> GradeResult:
    """`result` cut down to `parts`: their rows, their checks and their points."""
    kept = [part for part in result.parts if part.id in parts]
    result.parts = kept
    result.tests = [test for test in result.tests if test.part in parts]
    result.score = round(sum(part.score for part in kept), 6)
    result.max_score = round(sum(part.max_score for part in kept), 6)
    return result


def load_problems(load: dict, submission: Submission) -> list[str]:
    """Import failures, each once, as notes naming the student's file and line."""
    notes = []
    for problem in _problems(load):
        if problem.get("module") == "the sandbox" and isinstance(problem.get("note"), str):
            notes.append(problem["note"])
            continue
        place = _place(problem, submission)
        when = "on the results pipe" if problem.get("module") == "the results pipe" else "while loading"
        note = f"{place + ': ' if place else ''}{problem.get('type', 'Error')} {when}: " \
               f"{str(problem.get('message', ''))[:200]}"
        if note not in notes:
            notes.append(note)
    return notes


def load_failure(load: dict, submission: Submission, results: dict, sources) -> str | None:
    """The one line that is the whole report when the code raised while loading and the engine needs what
    failed: a module of the package that did not import, or a statement of a single file or notebook whose
    names the engine then misses (a probe met an undefined name it binds, or a contract name it defines is
    not there). Worded from the error's fields and the student's own statement, never its message."""
    found = set(load.get("found") or []) if isinstance(load, dict) else set()
    missing_names = {answer["error"].get("name") for answer in results.values() if isinstance(answer, dict)
                     and isinstance(answer.get("error"), dict) and answer["error"].get("type") == "NameError"}
    for problem in _problems(load):
        if problem.get("module") in ("the sandbox", "the results pipe") or not isinstance(problem.get("type"), str):
            continue
        where = problem.get("where")
        if not (isinstance(where, list) and len(where) == 2 and isinstance(where[0], str) and isinstance(where[1], int)):
            continue
        key = submission.staged_key(where[0])
        statement = statement_at(sources.tree(key), where[1])
        if submission.staged_as == "module":
            bound = bound_names(statement)
            if not (bound & missing_names or (bound & set(NAMES)) - found):
                continue
        return load_error_line(problem, submission.locate(where[0], where[1]), statement, sources.texts.get(key, ""))
    return None


def statement_at(tree, line: int):
    """The top-level statement of `tree` that holds `line`."""
    for statement in getattr(tree, "body", []):
        if statement.lineno <= line <= (statement.end_lineno or statement.lineno):
            return statement
    return None


def bound_names(statement) -> set[str]:
    """The names a top-level statement binds: what it imports, defines or assigns."""
    if statement is None:
        return set()
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def load_error_line(problem: dict, place: tuple[str, int], statement, text: str) -> str:
    """`file:line: what failed`, in the student's words."""
    file, line = place
    if problem["type"] == "ModuleNotFoundError" and isinstance(problem.get("name"), str) and statement is not None:
        source = text.split("\n")[statement.lineno - 1].strip() if text else ""
        module = problem["name"].split(".")[0]
        return f"{file}:{line}: `{source[:120]}` failed: {module} is not installed where the grader runs"
    return f"{file}:{line}: {problem['type']} raised while loading, so the engine cannot be graded"


def syntax_error(load: dict, submission: Submission) -> str | None:
    """A package file that does not compile, as `file:line: SyntaxError: message`: nothing of the package
    can be graded, so this one line is the whole report."""
    for problem in _problems(load):
        if problem.get("type") in ("SyntaxError", "IndentationError", "TabError"):
            message = re.sub(r" \([^()]*, line \d+\)$", "", str(problem.get("message", "")))[:200]
            return f"{_place(problem, submission) or 'micrograd'}: {problem['type']}: {message}"
    return None


def _problems(load: dict) -> list[dict]:
    problems = load.get("problems", []) if isinstance(load, dict) else []
    return [p for p in problems if isinstance(p, dict)] if isinstance(problems, list) else []


def _place(problem: dict, submission: Submission) -> str:
    where = problem.get("where")
    if (isinstance(where, list) and len(where) == 2 and isinstance(where[0], str)
            and isinstance(where[1], int) and not isinstance(where[1], bool)):
        file, line = submission.locate(where[0], where[1])
        return f"{file}:{line}"
    return ""


def judge(probed: list[Probed], assignment: Assignment, parts: Sequence[str] | None = None) -> list[GradeResult]:
    """Score probed submissions in one pytest session; unreadable ones get zero with their reason. With
    `parts`, only the checks of the parts those parts are judged with (see `judged_parts`) run."""
    evidences = {p.name: p.evidence for p in probed if p.evidence is not None}
    raw = run_checks(evidences, parts=judged_parts(assignment, parts)) if evidences else []
    by_submission: dict[str, list[dict]] = {}
    for entry in raw:
        by_submission.setdefault(entry["metadata"]["submission"], []).append(entry)
    results = []
    for p in probed:
        if p.evidence is None:
            result = score(p.name, [], assignment, notes=p.notes, error=p.error)
        else:
            result = score(p.name, by_submission.get(p.name, []), assignment, notes=p.notes, output=p.output)
            result.load_problems = list(p.load_problems)
            result.curves = training_curves(p.evidence)
        results.append(result)
    return results


# The train probe whose losses a class's curves compare: the default steps and learning rate.
CURVE_PROBE = "train/defaults"


def training_curves(evidence: Evidence) -> dict | None:
    """The student's and the reference's losses on the default training run, when the student's loop gave
    a list of numbers (the class dashboard plots them)."""
    losses = evidence.student.get(CURVE_PROBE, {}).get("losses")
    numbers = (int, float)
    if not isinstance(losses, list) or not losses or not all(isinstance(v, numbers) for v in losses):
        return None
    reference = evidence.reference.get(CURVE_PROBE, {}).get("losses")
    if not isinstance(reference, list):
        return None
    return {"student": [_finite(v) for v in losses[:1000]], "reference": [_finite(v) for v in reference]}


def _finite(value: float) -> float | None:
    """A loss as JSON can hold it: NaN and infinities become null."""
    return float(value) if math.isfinite(value) else None


def grade_one(path: Path, assignment: Assignment | None = None, limits: JobLimits | None = None,
              parts: Sequence[str] | None = None, name: str | None = None,
              meanwhile: Callable[[], object] | None = None) -> GradeResult:
    """Grade one submission; with `parts`, only those parts are probed and reported. `meanwhile` is the
    caller's work to do while the submission's code runs (see `probe_submission`)."""
    assignment = assignment or load_assignment()
    probed = probe_submission(path, name=name, limits=limits, assignment=assignment, parts=parts, meanwhile=meanwhile)
    result = judge([probed], assignment, parts)[0]
    return only_parts(result, parts) if parts else result
