"""The GitHub Actions report: at most one annotation per task — an `::error` for a failed one (the line
the student must fix shows up annotated in the pull request), a `::notice` at the stub of one not started,
none for given code that waits for a task not started — plus, where the runner provides them, a Markdown
step summary ($GITHUB_STEP_SUMMARY) and the `score` / `max_score` step outputs ($GITHUB_OUTPUT).

GitHub shows at most 10 annotations of a kind per step, so tasks beyond the tenth are only in the summary.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from grader.judge.diagnoses import CATALOGUE
from grader.report import mermaid, number_text, others_fail, place, points, status_text
from grader.report.markdown import code_span, prose
from grader.report.sanitize import clean
from grader.score import CheckResult, GradeResult, PartResult, headline_first

MAX_ANNOTATIONS = 10
MARK = {"passed": "✅", "not started": "⏸️", "waiting": "⏳"}
# GitHub rejects a step summary over 1 MiB; staying well below leaves room for other steps.
MAX_SUMMARY_CHARS = 200_000


def render(result: GradeResult, env: Mapping[str, str] | None = None, **_) -> str:
    """The annotation lines for standard output. As side effects, appends the Markdown summary to the file
    named by GITHUB_STEP_SUMMARY and the step outputs to GITHUB_OUTPUT, when those are set in `env`
    (default: the process environment)."""
    env = os.environ if env is None else env
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(step_summary(result))
    if env.get("GITHUB_OUTPUT"):
        with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as output:
            output.write(f"score={round(result.score, 6)}\nmax_score={round(result.max_score, 6)}\n"
                         f"passed={'true' if result.all_passed else 'false'}\n")
    return "".join(line + "\n" for line in annotations(result))


def annotations(result: GradeResult) -> list[str]:
    """Workflow commands: one for an unreadable submission, else at most one per task."""
    if result.status == "error":
        return [command("error", clean(result.error or "the submission could not be graded"),
                        title="micrograde: could not grade")]
    errors, notices = [], []
    for part, test in failed_parts(result):
        at = {"file": clean(test.file) if test.file else None, "line": test.line}
        if part.status == "not started":
            notices.append(command("notice", "Not started: replace the `raise NotImplementedError(...)` of this "
                                   "task with your code.", **at, title=f"{part.id}: not started"))
            continue
        message = clean(test.message)
        if test.hint:
            message += f"\nHint: {clean(test.hint)}"
        errors.append(command("error", message, **at, title=f"{part.id}: {diagnosis_title(test)}"))
    return errors[:MAX_ANNOTATIONS] + notices[:MAX_ANNOTATIONS]


def failed_parts(result: GradeResult) -> list[tuple[PartResult, CheckResult]]:
    """Each task that did not pass and does not wait for another, with its first non-passing check (the
    one with the smallest case)."""
    pairs = []
    for part in result.parts:
        if part.status == "waiting":
            continue
        first = next(iter(headline_first([t for t in result.tests if t.part == part.id and t.status != "passed"])), None)
        if first is not None:
            pairs.append((part, first))
    return pairs


def diagnosis_title(test: CheckResult) -> str:
    known = CATALOGUE.get(test.diagnosis or "")
    if known is not None:
        return known.title
    return "the grader could not run this check" if test.status == "error" else "check failed"


def command(name: str, message: str, **properties: object) -> str:
    """One workflow command line, escaped so that no text can end it early or start another command."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def step_summary(result: GradeResult) -> str:
    """The Markdown report: points per part, then each failure's smallest case, hint, place and graph."""
    out = [f"## micrograde: {points(result.score)} / {points(result.max_score)}\n"]
    if result.status == "error":
        out.append(f"**Could not grade the submission:** {prose(result.error or '')}\n")
    for note in result.notes:
        out.append(f"> {prose(note)}\n")
    out.append("\n| part | points | checks passed | status |\n| --- | ---: | ---: | --- |\n")
    for part in result.parts:
        mark = MARK.get(part.status, "❌")
        out.append(f"| {mark} `{part.id}` {prose(part.title)} | {points(part.score)} / {points(part.max_score)} "
                   f"| {part.passed} / {part.total} | {prose(status_text(part))} |\n")
    not_started = [part.id for part in result.parts if part.status == "not started"]
    if not_started:
        out.append(f"\nNot started: {', '.join(not_started)}. Replace each task's `raise NotImplementedError(...)` "
                   "with your code.\n")
    for part, test in failed_parts(result):
        if part.status == "not started":
            continue
        others = [t for t in result.tests if t.part == part.id and t.status != "passed" and t is not test]
        out.append(failure_section(part, test, others))
    text = "".join(out) + "\n"
    if len(text) > MAX_SUMMARY_CHARS:
        text = text[:MAX_SUMMARY_CHARS] + "\n\n… (report cut to fit GitHub's step summary limit)\n"
    return text


def failure_section(part: PartResult, test: CheckResult, others: list[CheckResult] = ()) -> str:
    """One failed part: its first failure in full, the other failing checks by name, and the first
    expression graph among the failures drawn in Mermaid."""
    lines = [f"\n### ❌ {part.id}: {prose(diagnosis_title(test))}\n",
             f"{prose(test.message)}\n"]
    rows = [("case", test.case), ("expected", test.expected),
            ("got", test.got), ("numerical estimate", test.numerical)]
    rows = [(name, value) for name, value in rows if value is not None]
    if rows:
        lines.append("\n| | |\n| --- | --- |\n")
        for name, value in rows:
            lines.append(f"| {name} | {code_span(number_text(value))} |\n")
    if where := place(test):
        lines.append(f"\nWhere: {code_span(where)}\n")
    if test.hint:
        lines.append(f"\n**Hint:** {prose(test.hint)}\n")
    if others:
        lines.append(f"\n{others_fail(len(others), part.id)}.\n")
    drawn = next((t for t in (test, *others) if t.graph), None)
    if drawn is not None:
        case = f" {code_span(drawn.case)}" if drawn.case else ""
        lines.append(f"\nThe expression graph{case}, its first wrong value in red:\n\n")
        lines.append(mermaid.fenced(drawn.graph) + "\n")
    return "".join(lines)
