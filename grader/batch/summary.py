"""What the instructor reads, rebuilt from every students/<id>/report.json: the gradebook, the class
summary (Markdown and HTML) and its plots. Rebuilding from the reports is what lets a resumed run, a
shard or a merge produce the same files as one run over the whole class."""
from __future__ import annotations

import csv
import html
import io
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.store import StudentStore, write_atomic
from grader.judge.diagnoses import CATALOGUE, describe
from grader.report.markdown import escape
from grader.report.sanitize import clean

HISTOGRAM = "score_histogram.png"
PASS_RATE = "part_pass_rate.png"
EXAMPLES_PER_DIAGNOSIS = 3
STYLE = ("<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
         "td.n{text-align:right}</style></head><body>")


@dataclass
class Row:
    """One gradebook line."""
    student: str
    score: float
    max_score: float
    parts: dict[str, float]
    status: str


def gradebook_status(report: dict, assignment: Assignment) -> str:
    """"graded", "not started" (every stub task still a stub) or "error: <reason>"."""
    if report.get("status") == "error":
        return "error: " + " ".join(clean(report.get("error") or "unknown", 300).split())
    tasks = [p for p in report.get("parts", []) if p["id"] in assignment.stubs] or \
        [p for p in report.get("parts", []) if p.get("max_score", 0) > 0]
    if tasks and all(p["status"] == "not started" for p in tasks):
        return "not started"
    return "graded"


def digest(report: dict) -> dict:
    """The few fields of a report the gradebook and the summary read, so that memory stays small however
    large the class (a full report holds every test's message)."""
    def kept(record: dict, keys: tuple[str, ...]) -> dict:
        return {key: record[key] for key in keys if key in record}

    parts = [kept(part, ("id", "score", "max_score", "status", "diagnosis"))
             for part in report.get("parts", []) if isinstance(part, dict)]
    return {**kept(report, ("status", "error", "score", "max_score")), "parts": parts}


def rows(reports: dict[str, dict], assignment: Assignment) -> list[Row]:
    found = []
    for student, report in reports.items():
        parts = {p["id"]: float(p["score"]) for p in report.get("parts", [])}
        found.append(Row(student, float(report.get("score", 0)), float(report.get("max_score", assignment.max_score)),
                         parts, gradebook_status(report, assignment)))
    return found


def gradebook_csv(table: list[Row], assignment: Assignment) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    part_ids = [p.id for p in assignment.parts]
    writer.writerow(["student", "score", "max_score", *part_ids, "status"])
    for row in table:
        writer.writerow([row.student, f"{row.score:g}", f"{row.max_score:g}",
                         *(f"{row.parts.get(pid, 0.0):g}" for pid in part_ids), row.status])
    return buffer.getvalue()


def common_diagnoses(reports: dict[str, dict]) -> list[tuple[str, str, list[str]]]:
    """(diagnosis, part, students) for each failing part's first diagnosis, most students first."""
    students: dict[tuple[str, str], list[str]] = {}
    for student, report in reports.items():
        for part in report.get("parts", []):
            if part.get("status") not in ("passed", "not graded") and part.get("diagnosis"):
                students.setdefault((part["diagnosis"], part["id"]), []).append(student)
    ranked = sorted(students.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(diagnosis, part, names) for (diagnosis, part), names in ranked]


def diagnosis_title(code: str) -> str:
    return describe(code).title if code in CATALOGUE else code


def pass_rates(reports: dict[str, dict], assignment: Assignment) -> dict[str, float]:
    graded = [r for r in reports.values() if r.get("status") != "error"]
    return {p.id: (sum(any(q["id"] == p.id and q["status"] == "passed" for q in r.get("parts", []))
                       for r in graded) / len(graded) if graded else 0.0) for p in assignment.parts}


def plot(table: list[Row], rates: dict[str, float], assignment: Assignment, out: Path) -> None:
    try:
        import matplotlib
    except ModuleNotFoundError:  # the plots come with the instructor extra: pip install "micrograde[instructor]"
        print("micrograde: no plots (install micrograde[instructor] for them)", file=sys.stderr)
        return
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    metadata = {"Software": None}  # no version string, so identical grades give identical files
    fig, ax = plt.subplots(figsize=(6, 3.5))
    top = assignment.max_score or 1
    ax.hist([r.score for r in table], bins=20, range=(0, top), color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("students")
    ax.set_title(f"Scores ({len(table)} students)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata=metadata)
    plt.close(fig)
    write_atomic(out / HISTOGRAM, buffer.getvalue())

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ids = list(rates)
    ax.bar(ids, [100 * rates[i] for i in ids], color="#55a868")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of graded students passing")
    ax.set_title("Pass rate per part")
    ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata=metadata)
    plt.close(fig)
    write_atomic(out / PASS_RATE, buffer.getvalue())


def _stats(table: list[Row]) -> dict[str, str]:
    scores = [r.score for r in table]
    counts = Counter("error" if r.status.startswith("error") else r.status for r in table)
    return {"students": str(len(table)), "graded": str(counts["graded"]), "not started": str(counts["not started"]),
            "errors": str(counts["error"]),
            "mean score": f"{statistics.fmean(scores):.1f}" if scores else "–",
            "median score": f"{statistics.median(scores):g}" if scores else "–"}


def summary_markdown(table: list[Row], reports: dict[str, dict], assignment: Assignment) -> str:
    rates = pass_rates(reports, assignment)
    lines = [f"# {assignment.title}: class summary", ""]
    lines += [f"- {key}: {value}" for key, value in _stats(table).items()]
    lines += ["", f"![score histogram]({HISTOGRAM})", "", f"![pass rate per part]({PASS_RATE})", "",
              "## Pass rate per part", "", "| Part | Points | Passing |", "|---|---:|---:|"]
    lines += [f"| {p.id} | {p.points:g} | {100 * rates[p.id]:.0f}% |" for p in assignment.parts]
    lines += ["", "## Most common diagnoses", ""]
    for diagnosis, part, students in common_diagnoses(reports)[:20]:
        examples = ", ".join(f"[{s}](students/{s}/report.md)" for s in students[:EXAMPLES_PER_DIAGNOSIS])
        lines.append(f"- {len(students)} student{'s' if len(students) != 1 else ''}: {diagnosis} in {part} "
                     f"({diagnosis_title(diagnosis)}); e.g. {examples}")
    errors = [r for r in table if r.status.startswith("error")]
    if errors:
        lines += ["", "## Could not grade", ""]
        # The reason may quote the submission's file names: escaped, so a name cannot add markup or HTML.
        lines += [f"- [{r.student}](students/{r.student}/report.md): {escape(r.status[len('error: '):])}" for r in errors]
    return "\n".join(lines) + "\n"


def summary_html(table: list[Row], reports: dict[str, dict], assignment: Assignment) -> str:
    e = html.escape
    rates = pass_rates(reports, assignment)
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(assignment.title)}: class summary</title>",
           STYLE,
           f"<h1>{e(assignment.title)}: class summary</h1><ul>"]
    out += [f"<li>{e(k)}: {e(v)}</li>" for k, v in _stats(table).items()]
    out += ["</ul>", f'<img src="{HISTOGRAM}" alt="score histogram"> <img src="{PASS_RATE}" alt="pass rate per part">',
            "<h2>Most common diagnoses</h2><ul>"]
    for diagnosis, part, students in common_diagnoses(reports)[:20]:
        examples = ", ".join(f'<a href="students/{e(s)}/report.md">{e(s)}</a>' for s in students[:EXAMPLES_PER_DIAGNOSIS])
        out.append(f"<li>{len(students)} student{'s' if len(students) != 1 else ''}: <b>{e(diagnosis)}</b> in "
                   f"<b>{e(part)}</b> ({e(diagnosis_title(diagnosis))}); e.g. {examples}</li>")
    out += ["</ul><h2>Pass rate per part</h2><table><tr><th>Part</th><th>Points</th><th>Passing</th></tr>"]
    out += [f'<tr><td>{e(p.id)}</td><td class="n">{p.points:g}</td><td class="n">{100 * rates[p.id]:.0f}%</td></tr>'
            for p in assignment.parts]
    out += ["</table><h2>Students</h2><table><tr><th>Student</th><th>Score</th><th>Status</th></tr>"]
    out += [f'<tr><td><a href="students/{e(r.student)}/report.md">{e(r.student)}</a></td>'
            f'<td class="n">{r.score:g} / {r.max_score:g}</td><td>{e(r.status)}</td></tr>' for r in table]
    out += ["</table></body></html>"]
    return "\n".join(out) + "\n"


def rebuild(out: Path, assignment: Assignment) -> list[Row]:
    """Write gradebook.csv, summary.md, summary.html and the plots from the reports in `out`."""
    reports = {student: digest(report) for student, report in StudentStore(out).reports()}
    table = rows(reports, assignment)
    write_atomic(out / "gradebook.csv", gradebook_csv(table, assignment))
    plot(table, pass_rates(reports, assignment), assignment, out)
    write_atomic(out / "summary.md", summary_markdown(table, reports, assignment))
    write_atomic(out / "summary.html", summary_html(table, reports, assignment))
    return table


def table_text(table: list[Row]) -> str:
    """The student / score / status table printed at the end of a run."""
    width = max([len("student"), *(len(r.student) for r in table)])
    lines = [f"{'student':<{width}}  {'score':>14}  status", f"{'-' * width}  {'-' * 14}  ------"]
    lines += [f"{r.student:<{width}}  {f'{round(r.score, 2):g} / {r.max_score:g}':>14}  {r.status}" for r in table]
    return "\n".join(lines) + "\n"
