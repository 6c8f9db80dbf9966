"""The report a student reads in a terminal: a line per part, then each failure explained. Colour on a
terminal (rich), plain text otherwise."""
from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape

from grader.report.sanitize import clean
from grader.score import GradeResult, headline_first

MARK = {"passed": "[green]✓[/]", "failed": "[red]✗[/]", "not started": "[yellow]·[/]", "missing": "[red]?[/]",
        "not graded": "[red]-[/]"}


def render(result: GradeResult, color: bool = False, width: int = 100, **_) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False,
                      soft_wrap=not color)
    console.print(f"[bold]micrograde[/] · {escape(clean(result.submission))} · {result.assignment}")
    if result.status == "error":
        console.print(f"[red]Could not grade:[/] {escape(clean(result.error or ''))}")
    for note in result.notes:
        console.print(f"[dim]note:[/] {escape(clean(note))}")
    console.print()
    for part in result.parts:
        mark = MARK.get(part.status, "✗")
        points = f"{part.score:g}/{part.max_score:g}"
        console.print(f" {mark} {part.id:<10} {points:>9}  {escape(part.title)}"
                      + (f"  [dim]({part.status})[/]" if part.status != "passed" else ""))
    console.print(f"\n[bold]Score: {result.score:g} / {result.max_score:g}[/]\n")
    for part in result.parts:
        failures = headline_first([t for t in result.tests if t.part == part.id and t.status != "passed"])
        if not failures:
            continue
        console.print(f"[bold]{part.id}[/] — {part.passed}/{part.total} checks passed")
        for test in failures[:1]:  # the first failing check carries the smallest case; the rest follow from it
            where = f" [dim]({escape(clean(test.file))}:{test.line})[/]" if test.file else ""
            console.print(f"  ✗ {escape(test.name)}{where}")
            console.print(f"    {escape(clean(test.message))}")
            if test.hint:
                console.print(f"    [cyan]hint:[/] {escape(test.hint)}")
        if len(failures) > 1:
            console.print(f"    [dim]also failing: {', '.join(t.check for t in failures[1:])}[/]")
        console.print()
    return buffer.getvalue()
