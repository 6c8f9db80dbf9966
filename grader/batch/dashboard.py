"""The instructor's HTML pages over the class's table (summary.py): OUTDIR/summary.html, and the dashboard,
one static folder, OUTDIR/dashboard/, opened straight from the disk (no server, no script, no file from the
network).

    index.html                   the class's numbers, the parts × diagnoses heatmap (students per cell, each
                                 cell a link to its students), the class's training-loss curves against the
                                 reference's, the "could not grade" list and every student
    cells/<part>--<code>.html    the students of one heatmap cell
    students/<id>.html           one student's report, with the failing graph drawn as an inline SVG

Every text that comes from a submission (file names in a reason, messages quoting values) is escaped.
"""
from __future__ import annotations

import html
import math
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.store import StudentStore, write_atomic
from grader.batch.summary import (
    EXAMPLES_PER_DIAGNOSIS,
    HISTOGRAM,
    NOT_A_CAUSE,
    PASS_RATE,
    Row,
    class_numbers,
    common_diagnoses,
    diagnosis_title,
    pass_rates,
)
from grader.report import points
from grader.report.mermaid import leaf_name

DASHBOARD_DIR = "dashboard"
STUDENTS_DIR = "students"
CELLS_DIR = "cells"
STYLE = """<style>
body{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td.n{text-align:right}td.heat a{display:block;text-align:center;color:#000;text-decoration:none}
.passed{color:#1a7f37}.failed,.error{color:#cf222e}svg text{font:11px system-ui,sans-serif}
</style>"""
SUMMARY_STYLE = ("<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto}"
                 "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
                 "td.n{text-align:right}</style></head><body>")
PLOT_WIDTH, PLOT_HEIGHT, MARGIN = 560, 260, 48


def student_file(student: str) -> str:
    """The page of one student, relative to the dashboard folder (ids are already safe file names)."""
    return f"{STUDENTS_DIR}/{student}.html"


def student_page(student: str) -> str:
    """A student's page in the dashboard, relative to the output folder."""
    return f"{DASHBOARD_DIR}/{student_file(student)}"


def cell_file(part: str, diagnosis: str) -> str:
    return f"{CELLS_DIR}/{part}--{diagnosis}.html"


def page(title: str, body: list[str], depth: int = 0) -> str:
    """A whole HTML page; `depth` is how many folders below the dashboard it sits (for the way back)."""
    home = "../" * depth + "index.html"
    nav = "" if depth == 0 else f'<p><a href="{home}">← class dashboard</a></p>'
    return "\n".join(["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
                      f"<title>{html.escape(title)}</title>", STYLE, "</head><body>", nav,
                      f"<h1>{html.escape(title)}</h1>", *body, "</body></html>"]) + "\n"


def heatmap(table, reports: dict[str, dict], assignment: Assignment) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    """The parts × diagnoses table (graded students only, no "built on broken" lines) and its cells."""
    graded = {r.student for r in table if r.status == "graded"}
    cells: dict[tuple[str, str], list[str]] = {}
    for student in sorted(graded):
        for part in reports[student].get("parts", []):
            code = part.get("diagnosis")
            if part.get("status") in ("failed", "missing", "not started") and code and code not in NOT_A_CAUSE:
                cells.setdefault((part["id"], code), []).append(student)
    codes = sorted({code for _, code in cells}, key=lambda c: (-sum(len(v) for (p, d), v in cells.items() if d == c), c))
    if not codes:
        return ["<p>No graded student fails a part.</p>"], cells
    most = max(len(v) for v in cells.values())
    out = ["<table class=\"heatmap\"><tr><th>part \\ diagnosis</th>"]
    out += [f'<th title="{html.escape(diagnosis_title(c))}">{html.escape(c)}</th>' for c in codes]
    out.append("</tr>")
    for part in assignment.parts:
        out.append(f"<tr><th>{html.escape(part.id)}</th>")
        for code in codes:
            students = cells.get((part.id, code), [])
            if not students:
                out.append("<td></td>")
                continue
            shade = 0.15 + 0.85 * len(students) / most
            out.append(f'<td class="heat" style="background:rgba(207,34,46,{shade:.2f})">'
                       f'<a href="{html.escape(cell_file(part.id, code))}" title="{len(students)} students">{len(students)}</a></td>')
        out.append("</tr>")
    out.append("</table>")
    return out, cells


SCALE_OVER_REFERENCE = 3.0  # the loss plot's top, over the reference's largest loss


def loss_curves(table, reports: dict[str, dict]) -> list[str]:
    """Every graded student's training losses (thin, blue) against the reference's (thick, black), as SVG."""
    curves = [reports[r.student].get("curves") for r in table if r.status == "graded"]
    curves = [c for c in curves if isinstance(c, dict) and _numbers(c.get("student"))]
    reference = next((c["reference"] for c in curves if _numbers(c.get("reference"))), None)
    if not curves or reference is None:
        return ["<p>No training losses in the reports (no student's training loop ran).</p>"]
    series = [_numbers(c["student"]) for c in curves]
    # The reference sets the scale: one student's huge losses are that student's, drawn at the top edge.
    values = [v for v in _numbers(reference) if math.isfinite(v)]
    top, steps = SCALE_OVER_REFERENCE * max(values + [1e-12]), max(len(s) for s in series + [_numbers(reference)])
    low = min(0.0, min(values + [0.0]))
    above = sum(1 for s in series if any(not math.isfinite(v) or v > top for v in s))

    def point(i: int, v: float) -> str:
        x = MARGIN + (PLOT_WIDTH - 2 * MARGIN) * (i / max(1, steps - 1))
        v = min(max(v, low), top) if math.isfinite(v) else top
        y = PLOT_HEIGHT - MARGIN + (PLOT_HEIGHT - 2 * MARGIN) * -((v - low) / ((top - low) or 1))
        return f"{x:.1f},{y:.1f}"

    svg = [(f'<svg class="curves" role="img" aria-label="training losses" width="{PLOT_WIDTH}" height="{PLOT_HEIGHT}" '
           f'viewBox="0 0 {PLOT_WIDTH} {PLOT_HEIGHT}" xmlns="http://www.w3.org/2000/svg">'),
           f'<line x1="{MARGIN}" y1="{PLOT_HEIGHT - MARGIN}" x2="{PLOT_WIDTH - MARGIN}" y2="{PLOT_HEIGHT - MARGIN}" stroke="#000"/>',
           f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{PLOT_HEIGHT - MARGIN}" stroke="#000"/>']
    for step in _whole_ticks(steps - 1):
        x, _ = point(step, low).split(",")
        svg.append(f'<text x="{x}" y="{PLOT_HEIGHT - MARGIN + 14}" text-anchor="middle">{step}</text>')
    svg.append(f'<text x="{PLOT_WIDTH / 2}" y="{PLOT_HEIGHT - 8}" text-anchor="middle">training step</text>')
    svg.append(f'<text x="4" y="{MARGIN - 8}">loss (max {top:.3g})</text>')
    for s in series:
        svg.append(f'<polyline class="student" fill="none" stroke="#4c72b0" stroke-opacity=".5" '
                   f'points="{" ".join(point(i, v) for i, v in enumerate(s))}"/>')
    svg.append(f'<polyline class="reference" fill="none" stroke="#000" stroke-width="3" '
               f'points="{" ".join(point(i, v) for i, v in enumerate(_numbers(reference)))}"/>')
    svg.append("</svg>")
    off_scale = (f" {above} of them go above the plot's top, {SCALE_OVER_REFERENCE:g} times the reference's "
                 "largest loss; their reports have the numbers.") if above else ""
    return [(f"<p>{len(series)} students' loops (blue) against the reference (black), "
            f"on the same model and data.{off_scale}</p>"), "".join(svg)]


def _whole_ticks(last: int) -> list[int]:
    """At most about 8 whole-number ticks from 0 to `last`."""
    stride = max(1, math.ceil(last / 8))
    return list(range(0, last + 1, stride))


def _numbers(values) -> list[float]:
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def index_page(table, reports: dict[str, dict], assignment: Assignment) -> tuple[str, dict]:
    e = html.escape
    body = ["<h2>Class numbers</h2><table class=\"numbers\">"]
    body += [f"<tr><th>{e(k)}</th><td class=\"n\">{e(v)}</td></tr>" for k, v in class_numbers(table).items()]
    body += ["</table>", (f'<p><img src="../{HISTOGRAM}" alt="score histogram"> '
                         f'<img src="../{PASS_RATE}" alt="pass rate per part"></p>'),
             "<h2>Parts × diagnoses</h2>", ("<p>Students who handed in work, per part and the diagnosis of its first "
             "failure; a cell links to its students.</p>")]
    grid, cells = heatmap(table, reports, assignment)
    body += grid
    body += ["<h2>Training losses</h2>", *loss_curves(table, reports)]
    errors = [r for r in table if r.status.startswith("error")]
    body.append('<h2 id="could-not-grade">Could not grade</h2>')
    body += ["<ul class=\"errors\">", *(f'<li><a href="{e(student_file(r.student))}">{e(r.student)}</a>: '
                                        f"{e(r.status[len('error: '):])}</li>" for r in errors), "</ul>"] \
        if errors else ["<p>Every submission could be graded.</p>"]
    body += [("<h2>Students</h2><table class=\"students\"><tr><th>student</th><th>name</th><th>score</th>"
             "<th>status</th><th>audit</th></tr>")]
    body += [f'<tr><td><a href="{e(student_file(r.student))}">{e(r.student)}</a></td><td>{e(r.name)}</td>'
             f'<td class="n">{points(r.score)} / {points(r.max_score)}</td><td>{e(r.status)}</td><td>{e(r.audit)}</td></tr>'
             for r in table]
    body.append("</table>")
    return page(f"{assignment.title}: dashboard", body), cells


def cell_page(part: str, code: str, students: list[str]) -> str:
    items = [f'<li><a href="../{html.escape(student_file(s))}">{html.escape(s)}</a></li>' for s in students]
    return page(f"{part}: {code}", [(f"<p>{html.escape(diagnosis_title(code))}: {len(students)} "
                                    f"student{'s' if len(students) != 1 else ''}.</p>"), "<ul>", *items, "</ul>"], depth=1)


def report_page(student: str, report: dict, row) -> str:
    """One student's report: score, audit, parts, and each failing check with its graph."""
    e = html.escape
    body = [f'<p class="score">Score: {points(row.score)} / {points(row.max_score)} ({e(row.status)})</p>']
    if row.audit:
        body.append(f"<p>Course policy: {e(row.audit)}</p>")
    if report.get("error"):
        body.append(f'<p class="error">Could not grade: {e(str(report["error"]))}</p>')
    body += ["<table class=\"parts\"><tr><th>part</th><th>points</th><th>status</th><th>diagnosis</th></tr>"]
    for part in report.get("parts", []):
        status = str(part.get("status", ""))
        body.append(f'<tr><td>{e(str(part.get("id")))}</td><td class="n">{_fmt(part.get("score"))} / '
                    f'{_fmt(part.get("max_score"))}</td><td class="{e(status.split()[0] if status else "")}">'
                    f"{e(status)}</td><td>{e(str(part.get('diagnosis') or ''))}</td></tr>")
    body.append("</table>")
    failing = [t for t in report.get("tests", []) if isinstance(t, dict) and t.get("status") != "passed"]
    if failing:
        body.append("<h2>Failing checks</h2>")
    for test in failing:
        body.append(f"<h3>{e(str(test.get('name', '')))}</h3><p>{e(str(test.get('message', '')))}</p><ul>")
        for label, key in (("Case", "case"), ("Expected", "expected"), ("Got", "got"), ("Hint", "hint")):
            if test.get(key) is not None:
                body.append(f"<li>{label}: <code>{e(str(test[key]))[:500]}</code></li>")
        if test.get("file"):
            body.append(f"<li>Where: <code>{e(str(test['file']))}:{e(str(test.get('line') or ''))}</code></li>")
        body.append("</ul>")
        if isinstance(test.get("graph"), dict):
            body.append(graph_svg(test["graph"]))
    for note in report.get("notes", []):
        body.append(f"<p class=\"note\">Note: {e(str(note))}</p>")
    return page(f"{student}: report", body, depth=1)


def _fmt(value) -> str:
    return points(value) if isinstance(value, (int, float)) else ""


def graph_svg(graph: dict) -> str:
    """The failing expression graph as an inline SVG: leaves on the left, each op one column after its
    deepest operand, the node where the gradient first goes wrong filled red."""
    leaves, nodes = list(graph.get("leaves") or []), list(graph.get("nodes") or [])
    data, leaf_grads, node_grads = (list(graph.get(k) or []) for k in ("data", "leaf_grads", "node_grads"))
    wrong = graph.get("first_wrong") if isinstance(graph.get("first_wrong"), list) else None
    column: list[int] = []
    for node in nodes:
        operands = [o for o in (node[1:] if isinstance(node, list) else []) if isinstance(o, dict) and "node" in o]
        column.append(1 + max((column[int(o["node"])] for o in operands if 0 <= int(o["node"]) < len(column)),
                              default=0))
    rows: dict[int, int] = {}
    box_w, box_h, gap_x, gap_y = 120, 44, 50, 14
    places: dict[tuple[str, int], tuple[float, float]] = {}

    def place(leaf_or_node: str, index: int, col: int) -> None:
        row = rows.get(col, 0)
        rows[col] = row + 1
        places[(leaf_or_node, index)] = (10 + col * (box_w + gap_x), 10 + row * (box_h + gap_y))

    for i in range(len(leaves)):
        place("leaf", i, 0)
    for i in range(len(nodes)):
        place("node", i, column[i])
    width = 20 + (max(column, default=0) + 1) * (box_w + gap_x)
    height = 20 + max(rows.values(), default=1) * (box_h + gap_y)
    parts = [(f'<svg class="graph" role="img" aria-label="expression graph" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">')]
    for i, node in enumerate(nodes):
        for operand in node[1:] if isinstance(node, list) else []:
            if isinstance(operand, dict) and ("leaf" in operand or "node" in operand):
                source = places.get(("leaf", int(operand["leaf"])) if "leaf" in operand else ("node", int(operand["node"])))
                if source:
                    x2, y2 = places[("node", i)]
                    parts.append(f'<line x1="{source[0] + box_w}" y1="{source[1] + box_h / 2}" x2="{x2}" '
                                 f'y2="{y2 + box_h / 2}" stroke="#555"/>')

    def box(leaf_or_node: str, index: int, title: str, value, grad) -> None:
        x, y = places[(leaf_or_node, index)]
        is_wrong = wrong == [leaf_or_node, index]
        fill, stroke = ("#f66", "#900") if is_wrong else ("#f6f8fa", "#888")
        lines = [title, f"data {_short(value)}" if value is not None else "", f"grad {_short(grad)}" if grad is not None else ""]
        parts.append(f'<g class="{"wrong" if is_wrong else leaf_or_node}"><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" '
                     f'rx="6" fill="{fill}" stroke="{stroke}"/>')
        for n, text in enumerate(t for t in lines if t):
            parts.append(f'<text x="{x + 6}" y="{y + 13 + 13 * n}">{html.escape(text)}</text>')
        parts.append("</g>")

    for i, value in enumerate(leaves):
        box("leaf", i, leaf_name(i), value, leaf_grads[i] if i < len(leaf_grads) else None)
    for i, node in enumerate(nodes):
        op = node[0] if isinstance(node, list) and node else "?"
        consts = [o["const"] for o in (node[1:] if isinstance(node, list) else []) if isinstance(o, dict) and "const" in o]
        title = str(op)[:20] + (f" ({', '.join(_short(c) for c in consts)})" if consts else "")
        box("node", i, title, data[i] if i < len(data) else None, node_grads[i] if i < len(node_grads) else None)
    parts.append("</svg>")
    return "".join(parts)


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))[:20]


def summary_html(table: list[Row], reports: dict[str, dict], assignment: Assignment) -> str:
    """The summary for a browser: every student link goes to the student's HTML page in the dashboard."""
    e = html.escape
    rates = pass_rates(reports, assignment)
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(assignment.title)}: class summary</title>",
           SUMMARY_STYLE,
           f"<h1>{e(assignment.title)}: class summary</h1>",
           f'<p><a href="{DASHBOARD_DIR}/index.html">Open the dashboard</a></p><ul>']
    out += [f"<li>{e(k)}: {e(v)}</li>" for k, v in class_numbers(table).items()]
    out += ["</ul>", f'<img src="{HISTOGRAM}" alt="score histogram"> <img src="{PASS_RATE}" alt="pass rate per part">',
            "<h2>Most common diagnoses</h2><ul>"]
    for diagnosis, part, students in common_diagnoses(reports, assignment)[:20]:
        examples = ", ".join(f'<a href="{e(student_page(s))}">{e(s)}</a>' for s in students[:EXAMPLES_PER_DIAGNOSIS])
        out.append(f"<li>{len(students)} student{'s' if len(students) != 1 else ''}: <b>{e(diagnosis)}</b> in "
                   f"<b>{e(part)}</b> ({e(diagnosis_title(diagnosis))}); e.g. {examples}</li>")
    out += ["</ul><h2>Pass rate per part</h2><table><tr><th>Part</th><th>Points</th><th>Passing</th></tr>"]
    out += [f'<tr><td>{e(p.id)}</td><td class="n">{points(p.points)}</td><td class="n">{100 * rates[p.id]:.0f}%</td></tr>'
            for p in assignment.parts]
    out += ["</table>"]
    errors = [r for r in table if r.status.startswith("error")]
    if errors:
        out += ['<h2 id="could-not-grade">Could not grade</h2><ul>']
        out += [f'<li><a href="{e(student_page(r.student))}">{e(r.student)}</a>: {e(r.status[len("error: "):])}</li>'
                for r in errors]
        out += ["</ul>"]
    out += ["<h2>Students</h2><table><tr><th>Student</th><th>Score</th><th>Status</th><th>Audit</th></tr>"]
    out += [f'<tr><td><a href="{e(student_page(r.student))}">{e(r.student)}</a></td>'
            f'<td class="n">{points(r.score)} / {points(r.max_score)}</td><td>{e(r.status)}</td><td>{e(r.audit)}</td></tr>'
            for r in table]
    out += ["</table></body></html>"]
    return "\n".join(out) + "\n"


def build_dashboard(out: Path, assignment: Assignment, table, reports: dict[str, dict]) -> None:
    """Write OUTDIR/dashboard/ from the gradebook rows and the reports' digests; each student's page reads
    the full report once, so memory stays that of one report. Pages of students no longer in the class go."""
    folder = out / DASHBOARD_DIR
    index, cells = index_page(table, reports, assignment)
    write_atomic(folder / "index.html", index)
    wanted = {folder / cell_file(part, code) for part, code in cells}
    for (part, code), students in cells.items():
        write_atomic(folder / cell_file(part, code), cell_page(part, code, students))
    by_student = {r.student: r for r in table}
    for student, report in StudentStore(out).reports():
        if student in by_student:
            wanted.add(folder / student_file(student))
            write_atomic(folder / student_file(student), report_page(student, report, by_student[student]))
    for sub in (STUDENTS_DIR, CELLS_DIR):
        for old in (folder / sub).glob("*.html") if (folder / sub).is_dir() else []:
            if old not in wanted:
                old.unlink()
