"""`micrograde selftest`: plant bugs in the reference's solution regions and report which ones grading misses."""
from __future__ import annotations

import argparse
import json
import sys

from grader.cli import UsageError
from grader.commands.options import add_assignment_options, assignment_from

HELP = "Mutation-test the grader: grade mutants of the reference and report the ones it does not catch."

REQUIRED_KILL_RATE = 0.95


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, help="grade at most N mutants, sampled with a fixed seed across regions")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_assignment_options(parser, "assignment id or path of its TOML file: its parts' solution regions are mutated")


def run(args: argparse.Namespace) -> int:
    from grader.selftest import selftest

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    assignment = assignment_from(args)
    report, _ = selftest(limit=args.limit, assignment=assignment)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report.render())
    return 0 if report.kill_rate >= REQUIRED_KILL_RATE else 1
