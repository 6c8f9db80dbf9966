"""Scoring: the checks' raw results become points per part, from the assignment's weights.

Partial credit within a part is the share of its checks passed. A check's status is "passed", "failed"
(wrong numbers) or "error" (the student's code raised, hung or was not written, so nothing could be
compared); a check that did not pass carries its `Finding` (grader/findings.py), with the points it cost.
The result object here is what every report format writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from grader import __version__
from grader.assignment import Assignment
from grader.findings import Finding
from grader.judge.diagnoses import PRIORITY, describe

# A check that raised something other than a finding: a bug of the grader's, never the student's.
CHECK_BROKEN = "The grader could not run this check; please report it to the course staff."
# The fields of a check's entry in the JSON report, in order; course staff script against them.
FINDING_FIELDS = ("message", "diagnosis", "hint", "case", "expected", "got", "numerical", "file", "line", "graph")


@dataclass
class CheckResult:
    """One check of one part: its status and points, and what it found when it did not pass."""
    name: str
    part: str
    check: str
    status: str
    score: float
    max_score: float
    finding: Finding | None = None
    hidden: bool = False  # the assignment hides this check from students until grades are published

    @property
    def message(self) -> str:
        """The sentence every report shows: the diagnosis' title, then what was found."""
        if self.finding is None:
            return "" if self.status == "passed" else CHECK_BROKEN
        return f"{self.finding.title}. {self.finding.message}"

    diagnosis = property(lambda self: self.finding and self.finding.diagnosis)
    hint = property(lambda self: self.finding and self.finding.hint)
    case = property(lambda self: self.finding and self.finding.case)
    expected = property(lambda self: self.finding and self.finding.expected)
    got = property(lambda self: self.finding and self.finding.got)
    numerical = property(lambda self: self.finding and self.finding.numerical)
    file = property(lambda self: self.finding and self.finding.file)
    line = property(lambda self: self.finding and self.finding.line)
    graph = property(lambda self: self.finding and self.finding.graph)

    def to_json(self) -> dict:
        data = {"name": self.name, "part": self.part, "check": self.check, "status": self.status,
                "score": self.score, "max_score": self.max_score}
        data.update({name: getattr(self, name) for name in FINDING_FIELDS})
        data["hidden"] = self.hidden
        finding = self.finding
        data.update(severity=finding.severity, points_lost=finding.points_lost, cause=_plain(finding.cause),
                    where=_plain(finding.where), built_on=list(finding.built_on), stubs=list(finding.stubs)) \
            if finding else {}
        return data


@dataclass
class PartResult:
    id: str
    title: str
    score: float
    max_score: float
    status: str
    passed: int
    total: int
    diagnosis: str | None = None
    message: str = ""
    waits_for: list[str] = field(default_factory=list)  # not-started tasks this (given) part is built on


@dataclass
class GradeResult:
    submission: str
    score: float
    max_score: float
    tests: list[CheckResult]
    parts: list[PartResult]
    status: str = "graded"
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    output: str = ""
    # Exploration of a notebook or script that failed at import: its author saw it fail already, so the
    # reports leave it out; instructors find it in the batch's output.txt.
    load_problems: list[str] = field(default_factory=list)
    grader_version: str = __version__
    assignment: str = "micrograd"
    # The training losses of the default `train(...)` run: {"student": [...], "reference": [...]}, or None.
    curves: dict | None = None

    def headline(self, part: str) -> CheckResult | None:
        """The failing check of `part` whose finding heads its report, as every report chooses it."""
        return next(iter(headline_first([t for t in self.tests if t.part == part and t.status != "passed"])), None)

    @property
    def all_passed(self) -> bool:
        return self.status == "graded" and all(t.status == "passed" for t in self.tests)

    def to_json(self, include_output: bool = False) -> dict:
        """The report's data, in field order. The fields hold plain data already: each test and part is
        mapped field by field, not deep-copied (which `asdict` does, at the cost of every number in every
        graph, for every student of a class)."""
        data = _fields(self)
        data["tests"] = [test.to_json() for test in self.tests]
        data["parts"] = [_fields(part) for part in self.parts]
        data.pop("load_problems")
        if not include_output:
            data.pop("output")
        return data


def _fields(instance) -> dict:
    return {f.name: getattr(instance, f.name) for f in fields(instance)}


def _plain(record) -> dict | None:
    return None if record is None else _fields(record)


def score(submission: str, raw_tests: list[dict], assignment: Assignment, notes: list[str] | None = None,
          output: str = "", error: str | None = None) -> GradeResult:
    """Points for one submission's raw check results (pytest-json-report entries with our metadata).
    With `error` (the submission could not be read), every part is "not graded" and scores zero."""
    if error is not None:
        parts = [PartResult(p.id, p.title, 0.0, p.points, "not graded", 0, 0, message=error) for p in assignment.parts]
        return GradeResult(submission=submission, score=0.0, max_score=assignment.max_score, tests=[], parts=parts,
                           status="error", notes=list(notes or []), error=error, assignment=assignment.id)
    by_part: dict[str, list[dict]] = {}
    for raw in raw_tests:
        if raw["outcome"] != "skipped":  # a check its mark skips does not count
            by_part.setdefault(raw["metadata"]["part"], []).append(raw)
    tests, parts = [], []
    for part in assignment.parts:
        entries = by_part.get(part.id, [])
        share = part.points / len(entries) if entries else 0.0
        results = [_test_result(raw, part.id, share) for raw in entries]
        for result in results:
            result.hidden = result.check in assignment.hidden
        tests.extend(results)
        parts.append(_part_result(part, results))
    _mark_waiting(parts, tests)
    return GradeResult(submission=submission, score=round(sum(p.score for p in parts), 6),
                       max_score=assignment.max_score, tests=tests, parts=parts, notes=list(notes or []),
                       output=output, assignment=assignment.id)


def _test_result(raw: dict, part: str, share: float) -> CheckResult:
    meta = raw["metadata"]
    finding = meta.get("finding")
    name = f"{part}: {meta['doc'] or meta['check']}"
    if raw["outcome"] == "passed":
        return CheckResult(name, part, meta["check"], "passed", share, share)
    if not isinstance(finding, Finding):
        return CheckResult(name, part, meta["check"], "error", 0.0, share)
    status = "error" if finding.severity == "error" else "failed"
    return CheckResult(name, part, meta["check"], status, 0.0, share,
                       replace(finding, part=part, check=meta["check"], points_lost=share))


def _part_result(part, results: list[CheckResult]) -> PartResult:
    failed = [r for r in results if r.status != "passed"]
    unstarted = [r for r in failed if r.diagnosis == "not_started"]
    # A stub still in place means the part was not started, and a bug that breaks every training run through
    # the part costs all of it: the given code around it, and the checks that happen not to show it, earn nothing.
    if unstarted or any(not describe(r.diagnosis).partial for r in failed if r.finding is not None):
        for r in results:
            r.score = 0.0
            if r.finding is not None:
                r.finding = replace(r.finding, points_lost=r.max_score)
    passed = sum(r.status == "passed" for r in results)
    earned = round(sum(r.score for r in results), 6)
    if not failed:
        status = "passed"
    elif unstarted:
        status = "not started"
    elif any(r.diagnosis == "missing" for r in failed) and not passed:
        status = "missing"
    else:
        status = "failed"
    ranked = by_specificity(failed)
    first = (unstarted or ranked or [None])[0]
    return PartResult(part.id, part.title, earned, part.points, status, passed, len(results),
                      diagnosis=first.diagnosis if first else None, message=first.message if first else "")


def _mark_waiting(parts: list[PartResult], tests: list[CheckResult]) -> None:
    """A part that fails only because it runs into tasks not started yet "waits for" those tasks: it is
    not wrong, and its report line says what to do first instead of showing a failure."""
    not_started = [p.id for p in parts if p.status == "not started"]
    for part in parts:
        if part.status != "failed":
            continue
        blockers = [_unstarted_blockers(t, not_started) for t in tests if t.part == part.id and t.status != "passed"]
        if blockers and all(blockers):
            part.status = "waiting"
            # Named by what the part is built on when a check says so, else by every stub it ran into.
            built_on = {name for t in tests if t.part == part.id for name in _built_on(t)} & set(not_started)
            part.waits_for = [task for task in not_started if task in built_on or not built_on
                              and any(task in b for b in blockers)]
            part.message = f"waits for {' and '.join(part.waits_for)}"


def _unstarted_blockers(test: CheckResult, not_started: list[str]) -> set[str]:
    """The not-started tasks a failing check of another part ran into."""
    named = set(test.finding.stubs if test.finding else ()) | _built_on(test)
    return (named & set(not_started)) - {test.part}


def _built_on(test: CheckResult) -> set[str]:
    return set(test.finding.built_on) if test.finding else set()


def by_specificity(failed: list[CheckResult]) -> list[CheckResult]:
    """Failed checks, the one whose diagnosis should head the part first: by PRIORITY, however many checks
    a more generic diagnosis fails; among equals, the one that points at a line, then check order."""
    def rank(r: CheckResult) -> tuple[int, bool]:
        return (PRIORITY.index(r.diagnosis) if r.diagnosis in PRIORITY else len(PRIORITY), r.line is None)
    return sorted(failed, key=rank)


def headline_first(failed: list[CheckResult]) -> list[CheckResult]:
    """A part's failed checks with the one its headline comes from first, the others in check order: what
    every report shows in full, so the diagnosis and the `file:line` a student reads are the headline's."""
    unstarted = [r for r in failed if r.diagnosis == "not_started"]
    head = (unstarted or by_specificity(failed) or [None])[0]
    return [head, *(r for r in failed if r is not head)] if head is not None else []
