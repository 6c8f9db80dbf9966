"""`micrograde assignments`: the assignments this grader can grade, and where each is read from."""
from __future__ import annotations

import argparse

from grader.assignment import AssignmentError, available_assignments, load_assignment
from grader.commands.options import add_course_option, use_course

HELP = "List the assignments that --assignment can name, with their parts and points."


def configure(parser: argparse.ArgumentParser) -> None:
    add_course_option(parser)


def run(args: argparse.Namespace) -> int:
    use_course(args)
    found = available_assignments()
    if not found:
        print("no assignments found")
        return 1
    for name, path in found:
        try:
            assignment = load_assignment(path)
        except AssignmentError as exc:
            print(f"{name}: cannot be read: {exc}")
            continue
        parts = ", ".join(part.id for part in assignment.parts)
        print(f"{name}: {assignment.title} ({assignment.max_score:g} points: {parts})\n    {path}")
    return 0
