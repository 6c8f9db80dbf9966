"""The report a student reads on the web (LMS comment, GitHub, the batch's students/<id>/report.md): a
table of points per part, then each failing part's first failure with its case, expected/got, hint and
file:line. Everything that came from the submission is cleaned and escaped, so it cannot inject markup."""
from __future__ import annotations

import json
import re

from grader.report.sanitize import clean
from grader.score import GradeResult, headline_first

MARK = {"passed": "✅", "failed": "❌", "not started": "⏸️", "missing": "❓", "not graded": "⛔"}
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def escape(text: object, limit: int = 2000) -> str:
    """Plain text for a Markdown line or table cell: no control characters, markup, HTML or newlines."""
    return _SPECIAL.sub(r"\\\1", clean(str(text), limit)).replace("\r", " ").replace("\n", " ")


def value(obj: object) -> str:
    text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, default=str)
    return escape(text, 300)


def render(result: GradeResult, **_) -> str:
    lines = [f"# micrograde · {escape(result.submission)}", "",
             f"**Score: {result.score:g} / {result.max_score:g}**", ""]
    if result.status == "error":
        lines += [f"> **Could not grade:** {escape(result.error or '')}", ""]
    for note in result.notes:
        lines.append(f"- note: {escape(note)}")
    if result.notes:
        lines.append("")
    lines += ["| | Part | Points | Status | Checks |", "|---|---|---:|---|---:|"]
    for part in result.parts:
        checks = f"{part.passed}/{part.total}" if part.total else "–"
        lines.append(f"| {MARK.get(part.status, '❌')} | **{part.id}** {part.title.replace('|', '/')} | "
                     f"{part.score:g}/{part.max_score:g} | {part.status} | {checks} |")
    lines.append("")
    for part in result.parts:
        failures = headline_first([t for t in result.tests if t.part == part.id and t.status != "passed"])
        if not failures:
            continue
        # The first failing check carries the smallest case; the others usually follow from it.
        test = failures[0]
        lines += [f"## {part.id}: {part.passed}/{part.total} checks passed", "", f"**{escape(test.name)}**", ""]
        if test.file:
            lines.append(f"- where: `{escape(test.file, 200).replace('`', '')}:{test.line}`")
        if test.case:
            lines.append(f"- case: {value(test.case)}")
        if test.expected is not None or test.got is not None:
            lines.append(f"- expected: {value(test.expected)}")
            lines.append(f"- got: {value(test.got)}")
        if test.numerical is not None:
            lines.append(f"- numerical gradient: {value(test.numerical)}")
        lines.append(f"- {escape(test.message)}")
        if test.hint:
            lines.append(f"- hint: {test.hint.replace(chr(10), ' ')}")  # the grader's own words, markup kept
        if len(failures) > 1:
            lines.append(f"- also failing: {', '.join(escape(t.check) for t in failures[1:])}")
        lines.append("")
    lines.append(f"<sub>micrograde {result.grader_version} · {escape(result.assignment)}</sub>")
    return "\n".join(lines) + "\n"
