"""The report a student reads in a terminal: a line per task, then each failing task explained by its
smallest failing case, then what the student's own code printed. Colour on a terminal (rich), plain text
otherwise. Tasks not started yet, and given code waiting for them, take one line each and no explanation."""
from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape

from grader.report import checks_fail, others_fail, output_excerpt, place, points, status_text
from grader.report.sanitize import clean
from grader.score import CheckResult, GradeResult, PartResult, headline_first

MARK = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "not started": "[yellow]·[/]", "waiting": "[dim]…[/]",
        "missing": "[red]?[/]", "not graded": "[red]-[/]"}


def render(result: GradeResult, color: bool = False, width: int = 100, show_output: bool = True, **_) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, force_jupyter=False, no_color=not color, width=width,
                      highlight=False, soft_wrap=not color)
    console.print(f"[bold]micrograde[/] · {escape(clean(result.submission))} · {result.assignment}")
    if result.status == "error":
        console.print(f"[red]Could not grade:[/] {escape(clean(result.error or ''))}")
    for note in result.notes:
        console.print(f"[dim]note:[/] {escape(clean(note))}")
    console.print()
    for part in result.parts:
        mark = MARK.get(part.status, "✗")
        score = f"{points(part.score)}/{points(part.max_score)}"
        console.print(f" {mark} {part.id:<10} {score:>9}  {escape(part.title)}"
                      + (f"  [dim]({escape(status_text(part))})[/]" if part.status != "passed" else ""))
    console.print(f"\n[bold]Score: {points(result.score)} / {points(result.max_score)}[/]\n")
    not_started = [part for part in result.parts if part.status == "not started"]
    if not_started:
        console.print(f"Not started: {', '.join(p.id for p in not_started)}. Replace each task's "
                      "`raise NotImplementedError(...)` with your code, in the order above.\n")
    for part, failures in failing_parts(result):
        if all(test.diagnosis == "built_on_broken" for test in failures) and (first := next(iter(failures[0].finding.built_on), None)):
            # Given code broken only by a task it is built on: that task's own section says what is wrong.
            console.print(f"[bold]{part.id}[/] — given code built on {first}, which fails its own checks: fix {first} first.\n")
            continue
        explain(console, part, failures[0], len(failures) - 1)
    if show_output and result.output.strip():
        shown, cut = output_excerpt(result.output)
        console.print("[bold]Your code printed[/] (while it was checked" + (", the start of it" if cut else "") + "):")
        for line in shown.split("\n"):
            console.print(f"  | {escape(clean(line, limit=400))}")
        console.print()
    return buffer.getvalue()


def failing_parts(result: GradeResult) -> list[tuple[PartResult, list[CheckResult]]]:
    """Each failed part (not "not started", not "waiting") with its failing checks, the headline's first:
    it names the cause, the rest usually follow from it."""
    found = []
    for part in result.parts:
        if part.status in ("passed", "not started", "waiting", "not graded"):
            continue
        failures = headline_first([t for t in result.tests if t.part == part.id and t.status != "passed"])
        if failures:
            found.append((part, failures))
    return found


def explain(console: Console, part: PartResult, test: CheckResult, others: int) -> None:
    console.print(f"[bold]{part.id}[/] — {checks_fail(part)}")
    where = f" [dim]({escape(clean(found))})[/]" if (found := place(test)) else ""
    console.print(f"  ✗ {escape(test.name)}{where}")
    console.print(f"    {escape(clean(test.message))}")
    if test.hint:
        console.print(f"    [cyan]hint:[/] {escape(test.hint)}")
    if others:
        console.print(f"    [dim]{others_fail(others, part.id)}[/]")
    console.print()

