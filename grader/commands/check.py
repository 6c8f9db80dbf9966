"""`micrograde check PATH`: grade one submission and print the report; `--part` for some tasks only,
`--watch` to grade again on every save."""
from __future__ import annotations

import argparse
import sys
import threading
from functools import partial
from pathlib import Path

from grader.assignment import Assignment
from grader.cli import UsageError
from grader.commands.limits import accept_unsafe_sandbox, add_limit_options, limits_from
from grader.commands.options import add_assignment_options, assignment_from
from grader.report import available, points, render, renderer, status_text
from grader.sandbox.process import SandboxError, start_early
from grader.score import GradeResult

HELP = "Grade one submission (folder, .zip, .py or .ipynb) and print its report."
CLEAR_SCREEN = "\x1b[2J\x1b[H"
WATCHED_SUFFIXES = (".py", ".ipynb", ".zip")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, nargs="?", default=Path("."),
                        help="the submission: a folder holding micrograd/, a .zip, a .py or an .ipynb "
                             "(default: the current folder)")
    parser.add_argument("--format", default="text", choices=available(), help="report format (default: text)")
    parser.add_argument("--part", action="append", metavar="TASK",
                        help="check only this task (repeatable), e.g. --part tanh --part relu")
    parser.add_argument("--watch", action="store_true", help="grade again every time a file of the submission is saved")
    add_assignment_options(parser)
    parser.add_argument("--output", type=Path, help="write the report to this file instead of standard output")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in text reports")
    parser.add_argument("--max-runs", type=int, default=None, help=argparse.SUPPRESS)  # ends --watch, for tests
    parser.add_argument("--explain-sandbox", action="store_true",
                        help="say which isolation student code would run in here, and why; then exit")
    add_limit_options(parser)


def run(args: argparse.Namespace) -> int:
    if args.explain_sandbox:
        from grader.commands.sandbox import explain

        accept_unsafe_sandbox(args)
        print(explain(), end="")
        return 0
    if not args.path.exists():
        raise UsageError(f"{args.path} does not exist")
    assignment = assignment_from(args)
    parts = selected_parts(args.part, assignment)
    if args.watch:
        return watch(args, assignment, parts)
    return show(grade(args, assignment, parts), args)


def selected_parts(names: list[str] | None, assignment: Assignment) -> list[str] | None:
    if not names:
        return None
    known = [part.id for part in assignment.parts]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"no task {unknown[0]!r} in {assignment.id}; the tasks are {', '.join(known)}")
    return list(dict.fromkeys(names))


def grade(args: argparse.Namespace, assignment: Assignment, parts: list[str] | None) -> GradeResult:
    try:
        accept_unsafe_sandbox(args)
        start_early()
        limits = limits_from(args)
        from grader.pipeline import grade_one

        # The report's writer is imported while the submission's code runs.
        return grade_one(args.path, assignment, limits, parts=parts, meanwhile=partial(renderer, args.format))
    except SandboxError as exc:
        raise UsageError(str(exc)) from None


def show(result: GradeResult, args: argparse.Namespace, before: GradeResult | None = None) -> int:
    """Write the report; the exit status: 0 all passed, 1 points missing, 2 the submission could not be read."""
    if result.status == "error" and args.format == "text":
        # Nothing was graded: the reason is the whole report (for a syntax error, `file:line: SyntaxError: …`),
        # under --watch too, where the next save most likely fixes it.
        print(result.error, file=sys.stderr)
        return 2
    color = args.color == "always" or (args.color == "auto" and args.output is None and sys.stdout.isatty())
    # The student's own output is theirs to see: in JSON as the field "output", where the code printed.
    options = {"include_output": bool(result.output)} if args.format == "json" else {}
    text = render(result, args.format, color=color, **options)
    if before is not None and args.format == "text":
        text = changes(before, result) + text
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if result.status == "error":
        return 2
    return 0 if result.all_passed else 1


def changes(before: GradeResult, after: GradeResult) -> str:
    """What changed since the last run, one line per task whose status or points moved."""
    old = {part.id: part for part in before.parts}
    lines = []
    for part in after.parts:
        was = old.get(part.id)
        if was is None or (was.status, was.score) == (part.status, part.score):
            continue
        delta = part.score - was.score
        moved = f" ({'+' if delta > 0 else '−'}{points(abs(delta))})" if delta else ""
        lines.append(f"  {part.id}: {status_text(was)} → {status_text(part)}{moved}")
    if before.status != after.status:
        lines.append(f"  the submission: {before.status} → {after.status}")
    head = "Since the last run:" if lines else "Since the last run: no change."
    return "\n".join([head, *lines]) + "\n\n"


def watch(args: argparse.Namespace, assignment: Assignment, parts: list[str] | None,
          stop: threading.Event | None = None) -> int:
    """Grade, then grade again after every save under the submission's path, until Ctrl-C (or `stop`, or
    --max-runs reports). A run that cannot read the submission prints its one line (`file:line:
    SyntaxError: …`); the next report says what changed since the last one graded."""
    import watchfiles

    target = args.path.resolve()
    root = target if target.is_dir() else target.parent

    def relevant(change: watchfiles.Change, path: str) -> bool:
        changed = Path(path)
        if target.is_file():
            return changed == target
        return changed.suffix in WATCHED_SUFFIXES and "__pycache__" not in changed.parts

    previous, status, runs = None, 0, 0
    stop = stop or threading.Event()
    while True:
        result = grade(args, assignment, parts)
        if args.format == "text" and args.output is None:
            sys.stdout.write(CLEAR_SCREEN)
        status = show(result, args, previous)
        previous, runs = (previous if result.status == "error" else result), runs + 1
        if args.max_runs is not None and runs >= args.max_runs:
            return status
        print(f"Watching {root} for saves; Ctrl-C to stop.", file=sys.stderr, flush=True)
        for _ in watchfiles.watch(root, watch_filter=relevant, stop_event=stop, debounce=300, raise_interrupt=False):
            break
        else:
            return status
