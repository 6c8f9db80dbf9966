"""`micrograde check PATH`: grade one submission and print the report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.assignment import AssignmentError, load_assignment
from grader.cli import UsageError
from grader.commands.limits import add_limit_options, limits_from
from grader.report import available, render
from grader.sandbox.process import SandboxError

HELP = "Grade one submission (folder, .zip, .py or .ipynb) and print its report."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, nargs="?",
                        help="the submission: a folder holding micrograd/, a .zip, a .py or an .ipynb")
    parser.add_argument("--format", default="text", choices=available(), help="report format (default: text)")
    parser.add_argument("--assignment", default="micrograd", help="assignment id or path of its TOML file")
    parser.add_argument("--output", type=Path, help="write the report to this file instead of standard output")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in text reports")
    parser.add_argument("--explain-sandbox", action="store_true",
                        help="say which isolation student code would run in here, and why; then exit")
    add_limit_options(parser)


def run(args: argparse.Namespace) -> int:
    from grader.pipeline import grade_one

    if args.explain_sandbox:
        from grader.commands.limits import accept_unsafe_sandbox
        from grader.commands.sandbox import explain

        accept_unsafe_sandbox(args)
        print(explain(), end="")
        return 0
    if args.path is None:
        raise UsageError("give the submission to check (a folder, .zip, .py or .ipynb)")
    if not args.path.exists():
        raise UsageError(f"{args.path} does not exist")
    try:
        assignment = load_assignment(args.assignment)
    except AssignmentError as exc:
        raise UsageError(str(exc)) from None
    limits = limits_from(args)
    try:
        result = grade_one(args.path, assignment, limits)
    except SandboxError as exc:
        raise UsageError(str(exc)) from None
    color = args.color == "always" or (args.color == "auto" and args.output is None and sys.stdout.isatty())
    text = render(result, args.format, color=color)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if result.status == "error":
        if args.format == "text":
            print(f"micrograde check: {result.error}", file=sys.stderr)
        return 2
    return 0 if result.all_passed else 1
