"""The class's table and what is read from it: the gradebook (with the course policy applied and audited),
the Canvas import file, the class's numbers, pass rates and most common diagnoses, the plots and the
Markdown summary. The HTML pages over the same table (summary.html and the dashboard) are dashboard.py's;
rebuild.py writes them all from the reports."""
from __future__ import annotations

import csv
import io
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.policy import Policy, apply
from grader.batch.store import write_atomic
from grader.judge.diagnoses import CATALOGUE, describe
from grader.report import points
from grader.report.markdown import escape
from grader.report.sanitize import clean

HISTOGRAM = "score_histogram.png"
PASS_RATE = "part_pass_rate.png"
GRADEBOOK = "gradebook.csv"
CANVAS_GRADEBOOK = "canvas_gradebook.csv"
POLICY_JSON = "policy.json"
EXAMPLES_PER_DIAGNOSIS = 3
# A failing part whose diagnosis only says "a part it is built on is broken" says nothing new about the
# student: the broken part has its own line.
NOT_A_CAUSE = {"built_on_broken"}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@dataclass
class Row:
    """One gradebook line: `score` is what the gradebook records (after the course policy), `graded` what the
    grader gave, `audit` why they differ."""
    student: str
    score: float
    max_score: float
    parts: dict[str, float]
    status: str
    graded: float = 0.0
    audit: str = ""
    name: str = ""
    email: str = ""
    submitted_at: str = ""
    canvas_id: str = ""


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
    return {**kept(report, ("status", "error", "score", "max_score", "curves")), "parts": parts}


def rows(reports: dict[str, dict], assignment: Assignment, infos: dict[str, dict] | None = None,
         policy: Policy | None = None) -> list[Row]:
    """The gradebook's rows, with each student's export details and the course policy applied."""
    infos, policy = infos or {}, policy or Policy()
    found = []
    for student, report in reports.items():
        info = infos.get(student, {})
        parts = {p["id"]: float(p["score"]) for p in report.get("parts", [])}
        graded = float(report.get("score", 0))
        status = gradebook_status(report, assignment)
        adjusted = apply(policy, student, graded, float(report.get("max_score", assignment.max_score)), status,
                         info.get("submitted_at"))
        audit = "; ".join(filter(None, [info.get("late_mark", ""), adjusted.audit]))
        found.append(Row(student, adjusted.score, float(report.get("max_score", assignment.max_score)), parts, status,
                         graded=graded, audit=audit, name=info.get("name", ""), email=info.get("email", ""),
                         submitted_at=info.get("submitted_at", ""), canvas_id=info.get("canvas_id", "")))
    return found


def spreadsheet_safe(cell: str) -> str:
    """A cell no spreadsheet runs as a formula: one starting with = + - @ tab or CR gets a leading quote,
    which Excel, LibreOffice and Google Sheets show as text."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def _csv(lines: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for line in lines:
        writer.writerow([spreadsheet_safe(cell) for cell in line])
    return buffer.getvalue()


def gradebook_csv(table: list[Row], assignment: Assignment) -> str:
    part_ids = [p.id for p in assignment.parts]
    lines = [["student", "name", "email", "score", "max_score", *part_ids, "status", "graded_score",
              "submitted_at", "audit"]]
    for row in table:
        lines.append([row.student, row.name, row.email, points(row.score), points(row.max_score),
                      *(f"{row.parts.get(pid, 0.0):g}" for pid in part_ids), row.status, f"{row.graded:g}",
                      row.submitted_at, row.audit])
    return _csv(lines)


def canvas_csv(table: list[Row], assignment: Assignment, policy: Policy | None = None) -> str:
    """Canvas's gradebook import file: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment's
    column ("Title (id)" when the course declared Canvas's assignment id, else a new column "Title"), and a
    "Points Possible" row. Canvas matches a row by ID (its user id, known from a Canvas export), else by
    SIS User ID; other exports give the student id there."""
    assignment_id = policy.canvas_assignment_id if policy else ""
    column = f"{assignment.title} ({assignment_id})" if assignment_id else assignment.title
    lines = [[*CANVAS_COLUMNS, column], ["Points Possible", "", "", "", "", points(assignment.max_score)]]
    for row in table:
        sis_user = "" if row.canvas_id else row.student
        lines.append([row.name or row.student, row.canvas_id, sis_user, "", "", points(row.score)])
    return _csv(lines)


def graded_only(reports: dict[str, dict], assignment: Assignment) -> dict[str, dict]:
    """The reports of students who handed in work that was graded: no errors, no untouched templates."""
    return {s: r for s, r in reports.items() if gradebook_status(r, assignment) == "graded"}


def common_diagnoses(reports: dict[str, dict], assignment: Assignment | None = None) -> list[tuple[str, str, list[str]]]:
    """(diagnosis, part, students) for each failing part's first diagnosis, most students first. Students who
    did not start are left out (they are counted apart), and so are lines that only blame a broken part."""
    if assignment is not None:
        reports = graded_only(reports, assignment)
    students: dict[tuple[str, str], list[str]] = {}
    for student, report in reports.items():
        for part in report.get("parts", []):
            if part.get("status") not in ("passed", "not graded") and part.get("diagnosis") \
                    and part["diagnosis"] not in NOT_A_CAUSE:
                students.setdefault((part["diagnosis"], part["id"]), []).append(student)
    ranked = sorted(students.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(diagnosis, part, names) for (diagnosis, part), names in ranked]


def diagnosis_title(code: str) -> str:
    return describe(code).title if code in CATALOGUE else code


def pass_rates(reports: dict[str, dict], assignment: Assignment) -> dict[str, float]:
    """Per part, the share of graded students (not errors, not untouched templates) who pass it."""
    graded = list(graded_only(reports, assignment).values())
    return {p.id: (sum(any(q["id"] == p.id and q["status"] == "passed" for q in r.get("parts", []))
                       for r in graded) / len(graded) if graded else 0.0) for p in assignment.parts}


def whole_students(ax) -> None:
    """Ticks on a count of students at whole numbers only."""
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


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
    whole_students(ax)
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
    ax.set_title("Pass rate per part (students who started)")
    ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata=metadata)
    plt.close(fig)
    write_atomic(out / PASS_RATE, buffer.getvalue())


def class_numbers(table: list[Row]) -> dict[str, str]:
    """The class's headline figures, in the order the summaries show them; the scores are those of the
    students whose code could be graded (one that could not be read is counted apart)."""
    scores = [r.score for r in table if not r.status.startswith("error")]
    counts = Counter("error" if r.status.startswith("error") else r.status for r in table)
    return {"students": str(len(table)), "graded": str(counts["graded"]), "not started": str(counts["not started"]),
            "could not grade": str(counts["error"]),
            "changed by the course policy": str(sum(r.score != r.graded for r in table)),
            "mean score": f"{statistics.fmean(scores):.1f}" if scores else "–",
            "median score": points(statistics.median(scores)) if scores else "–"}


def summary_markdown(table: list[Row], reports: dict[str, dict], assignment: Assignment) -> str:
    rates = pass_rates(reports, assignment)
    lines = [f"# {assignment.title}: class summary", ""]
    lines += [f"- {key}: {value}" for key, value in class_numbers(table).items()]
    lines += ["", f"![score histogram]({HISTOGRAM})", "", f"![pass rate per part]({PASS_RATE})", "",
              "## Pass rate per part", "", "| Part | Points | Passing |", "|---|---:|---:|"]
    lines += [f"| {p.id} | {points(p.points)} | {100 * rates[p.id]:.0f}% |" for p in assignment.parts]
    lines += ["", "## Most common diagnoses", ""]
    for diagnosis, part, students in common_diagnoses(reports, assignment)[:20]:
        examples = ", ".join(f"[{s}](students/{s}/report.md)" for s in students[:EXAMPLES_PER_DIAGNOSIS])
        lines.append(f"- {len(students)} student{'s' if len(students) != 1 else ''}: {diagnosis} in {part} "
                     f"({diagnosis_title(diagnosis)}); e.g. {examples}")
    errors = [r for r in table if r.status.startswith("error")]
    if errors:
        lines += ["", "## Could not grade", ""]
        # The reason may quote the submission's file names: escaped, so a name cannot add markup or HTML.
        lines += [f"- [{r.student}](students/{r.student}/report.md): {escape(r.status[len('error: '):])}" for r in errors]
    return "\n".join(lines) + "\n"


def table_text(table: list[Row]) -> str:
    """The student / score / status table printed at the end of a run."""
    width = max([len("student"), *(len(r.student) for r in table)])
    lines = [f"{'student':<{width}}  {'score':>14}  status", f"{'-' * width}  {'-' * 14}  ------"]
    lines += [f"{r.student:<{width}}  {f'{points(r.score)} / {points(r.max_score)}':>14}  {r.status}" for r in table]
    return "\n".join(lines) + "\n"
