"""What the instructor reads, rebuilt from every students/<id>/report.json: the gradebook (with the course
policy saved in the output folder applied and audited), the Canvas import file, the class summary (Markdown
and HTML), its plots and the dashboard. Rebuilding from the reports is what lets a resumed run, a shard or a
merge produce the same files as one run over the whole class."""
from __future__ import annotations

import json
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.dashboard import build_dashboard, summary_html
from grader.batch.policy import Policy
from grader.batch.store import StudentStore, write_atomic
from grader.batch.summary import (
    CANVAS_GRADEBOOK,
    GRADEBOOK,
    POLICY_JSON,
    Row,
    canvas_csv,
    digest,
    gradebook_csv,
    pass_rates,
    plot,
    rows,
    summary_markdown,
)


def saved_policy(out: Path) -> Policy:
    """The policy a run saved in `out` (none saved: no policy)."""
    try:
        return Policy.from_json(json.loads((out / POLICY_JSON).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return Policy()


def rebuild(out: Path, assignment: Assignment) -> list[Row]:
    """Write gradebook.csv, canvas_gradebook.csv, summary.md, summary.html, the plots and the dashboard from
    the reports in `out`, with the policy saved there."""
    store = StudentStore(out)
    reports = {student: digest(report) for student, report in store.reports()}
    infos = {student: store.info(student) for student in reports}
    policy = saved_policy(out)
    table = rows(reports, assignment, infos, policy)
    write_atomic(out / GRADEBOOK, gradebook_csv(table, assignment))
    write_atomic(out / CANVAS_GRADEBOOK, canvas_csv(table, assignment, policy))
    plot(table, pass_rates(reports, assignment), assignment, out)
    write_atomic(out / "summary.md", summary_markdown(table, reports, assignment))
    write_atomic(out / "summary.html", summary_html(table, reports, assignment))
    build_dashboard(out, assignment, table, reports)
    return table
