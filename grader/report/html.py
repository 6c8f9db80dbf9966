"""The report as HTML: what `micrograde.check()` shows in a Jupyter or Colab cell, and `--format html`
writes as a page. One row per task, then for each failing task its smallest failing case, the diagnosis,
the hint and the picture of the failing graph (grader/report/svg.py). Every text that came from the
submission is escaped."""
from __future__ import annotations

from html import escape

from grader.report import number_text, others_fail, output_excerpt, place, points, status_text
from grader.report.sanitize import clean
from grader.report.svg import picture
from grader.report.text import failing_parts
from grader.score import CheckResult, GradeResult

MARK = {"passed": "✓", "failed": "✗", "not started": "·", "waiting": "…", "missing": "?", "not graded": "-"}
COLOR = {"passed": "#2e7d32", "failed": "#c62828", "missing": "#c62828", "not graded": "#c62828"}
STYLE = ("<style>.micrograde table{border-collapse:collapse;margin:4px 0}"
         ".micrograde td,.micrograde th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}"
         ".micrograde .pts{text-align:right;font-variant-numeric:tabular-nums}"
         ".micrograde .failure{margin:10px 0;padding:6px 10px;border-left:4px solid #c62828}"
         ".micrograde pre{background:#f6f6f6;padding:6px;max-height:20em;overflow:auto}</style>")


def _text(value: object, limit: int = 2000) -> str:
    return escape(clean(str(value), limit))


def fragment(result: GradeResult) -> str:
    """The report as an HTML fragment, for a notebook cell."""
    out = [STYLE, f'<div class="micrograde" data-score="{points(result.score)}" data-max-score="{points(result.max_score)}">',
           (f"<p><b>micrograde</b> · {_text(result.submission)} · <b>{points(result.score)} / "
            f"{points(result.max_score)}</b></p>")]
    if result.status == "error":
        out.append(f'<p style="color:#c62828"><b>Could not grade:</b> {_text(result.error or "")}</p>')
    for note in result.notes:
        out.append(f"<p><i>note:</i> {_text(note)}</p>")
    out.append("<table><tr><th></th><th>task</th><th class=pts>points</th><th>status</th></tr>")
    for part in result.parts:
        color = COLOR.get(part.status, "#777")
        out.append(f'<tr><td style="color:{color}">{MARK.get(part.status, "✗")}</td><td><b>{_text(part.id)}</b> '
                   f'{_text(part.title)}</td><td class=pts>{points(part.score)}/{points(part.max_score)}</td>'
                   f"<td>{_text(status_text(part))}</td></tr>")
    out.append("</table>")
    for part, failures in failing_parts(result):
        out.append(failure(part.id, failures))
    if result.output.strip():
        shown, cut = output_excerpt(result.output)
        out.append(f"<p><b>Your code printed</b> (while it was checked{', the start of it' if cut else ''}):</p>"
                   f"<pre>{_text(shown, 10_000)}</pre>")
    out.append("</div>")
    return "\n".join(out)


def failure(part: str, failures: list[CheckResult]) -> str:
    """One failing task: its first failing check, the case, expected and got, hint and place, and the
    first failing graph among its checks."""
    test, others = failures[0], len(failures) - 1
    rows = [("case", test.case), ("expected", test.expected), ("got", test.got),
            ("numerical estimate", test.numerical),
            ("where", place(test))]
    out = ['<div class="failure">', f"<p><b>{_text(test.name)}</b></p>",
           f"<p>{_text(test.message)}</p>"]
    shown = [(name, value) for name, value in rows if value is not None]
    if shown:
        out.append("<table>" + "".join(f"<tr><td>{name}</td><td><code>{_text(number_text(value), 300)}</code></td></tr>"
                                       for name, value in shown) + "</table>")
    if test.hint:
        out.append(f"<p><b>Hint:</b> {_text(test.hint)}</p>")
    drawn = next((t for t in failures if t.graph), None)
    if drawn is not None and (svg := picture(drawn.graph)):
        case = f" <code>{_text(drawn.case)}</code>" if drawn.case else ""
        out.append(f"<p>The failing graph{case}, its first wrong value outlined in red:</p>")
        out.append(svg)
    if others:
        out.append(f"<p><i>{_text(others_fail(others, part))}.</i></p>")
    out.append("</div>")
    return "\n".join(out)


def render(result: GradeResult, **_) -> str:
    """A whole HTML page."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>micrograde · {_text(result.submission)}</title></head><body>\n"
            f"{fragment(result)}\n</body></html>\n")
