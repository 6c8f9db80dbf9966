"""The report a student reads on the web (LMS comment, GitHub, the batch's students/<id>/report.md): a
table of points per part, then each failing part's first failure with its case, expected/got, hint and
file:line. Everything that came from the submission is cleaned and escaped, so it cannot inject markup."""
from __future__ import annotations

import json
import re

from grader.report import checks_fail, others_fail, place, points, status_text
from grader.report.sanitize import clean
from grader.report.svg import picture
from grader.report.text import failing_parts
from grader.score import GradeResult

MARK = {"passed": "✅", "failed": "❌", "not started": "⏸️", "waiting": "⏳", "missing": "❓", "not graded": "⛔"}
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: object, limit: int = 2000) -> str:
    """Plain text for a Markdown line or table cell: no control characters, markup, HTML or newlines."""
    text = clean(str(text), limit).replace("\r", " ").replace("\n", " ")
    return _SPECIAL.sub(r"\\\1", "".join(_HTML.get(c, c) for c in text))


def code_span(text: object) -> str:
    """`text` as inline code, fenced by more backticks than it holds, so nothing in it can end the span."""
    text = clean(str(text)).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def prose(text: object, limit: int = 2000) -> str:
    """A sentence of the grader's, its `code` spans kept as code and everything else escaped: a span a
    value from the submission opened or closed only moves text between the two, both inert."""
    pieces = clean(str(text), limit).split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick starts no span
        pieces[-2:] = ["`".join(pieces[-2:])]
    return "".join(escape(piece) if i % 2 == 0 else code_span(piece) for i, piece in enumerate(pieces))


def value(obj: object) -> str:
    """A case or a number as the student reads it: floats to six significant digits, no float noise."""
    text = obj if isinstance(obj, str) else json.dumps(_rounded(obj), ensure_ascii=False, default=str)
    return escape(text, 300)


def _rounded(obj: object) -> object:
    if isinstance(obj, float):
        return float(f"{obj:.6g}")
    if isinstance(obj, list):
        return [_rounded(item) for item in obj]
    return obj


def render(result: GradeResult, **_) -> str:
    lines = [f"# micrograde · {escape(result.submission)}", "",
             f"**Score: {points(result.score)} / {points(result.max_score)}**", ""]
    if result.status == "error":
        lines += [f"> **Could not grade:** {prose(result.error or '')}", ""]
    for note in result.notes:
        lines.append(f"- note: {escape(note)}")
    if result.notes:
        lines.append("")
    lines += ["| | Task | Points | Status |", "|---|---|---:|---|"]
    for part in result.parts:
        lines.append(f"| {MARK.get(part.status, '❌')} | **{part.id}** {escape(part.title)} | "
                     f"{points(part.score)}/{points(part.max_score)} | {escape(status_text(part))} |")
    lines.append("")
    not_started = [part.id for part in result.parts if part.status == "not started"]
    if not_started:
        lines += [(f"**Not started:** {', '.join(not_started)}. hint: replace each task's "
                  "`raise NotImplementedError(...)` with your code, in the order above."), ""]
    for part, failures in failing_parts(result):
        # The first failing check carries the smallest case; the others usually follow from it.
        test = failures[0]
        lines += [f"## {part.id}: {checks_fail(part)}", "", f"**{escape(test.name)}**", ""]
        if where := place(test):
            lines.append(f"- where: {code_span(where)}")
        if test.case:
            lines.append(f"- case: {value(test.case)}")
        if test.expected is not None or test.got is not None:
            lines.append(f"- expected: {value(test.expected)}")
            lines.append(f"- got: {value(test.got)}")
        if test.numerical is not None:
            lines.append(f"- numerical gradient: {value(test.numerical)}")
        lines.append(f"- {prose(test.message)}")
        if test.hint:
            lines.append(f"- hint: {prose(test.hint)}")
        if len(failures) > 1:
            lines.append(f"- {others_fail(len(failures) - 1, part.id)}")
        drawn = next((t for t in failures if t.graph), None)
        if drawn is not None and (svg := picture(drawn.graph)):
            # Raw SVG renders where the Markdown allows HTML (Jupyter, most LMS); it holds escaped text only.
            lines += ["", f"The failing graph {value(drawn.case or '')}, its first wrong value outlined in red:", "",
                      svg.replace("\n", ""), ""]
        lines.append("")
    lines.append(f"<sub>micrograde {result.grader_version} · {escape(result.assignment)}</sub>")
    return "\n".join(lines) + "\n"
