"""Which assignment a command grades: `--assignment ID` and `--course DIR`, shared by every command that
takes an assignment, so each reads it the same way."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from grader.assignment import COURSE_ENV, Assignment, AssignmentError, load_assignment
from grader.cli import UsageError


def add_assignment_options(parser: argparse.ArgumentParser, help: str = "") -> None:
    parser.add_argument("--assignment", default="micrograd",
                        help=help or "assignment id or path of its TOML file (`micrograde assignments` lists them; "
                                     "default: micrograd)")
    add_course_option(parser)


def add_course_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, metavar="DIR",
                        help="a course folder whose assignments/<id>/assignment.toml come first "
                             f"(default: ${COURSE_ENV}, if set)")


def use_course(args: argparse.Namespace) -> None:
    """--course, passed on through the environment so that every worker process looks assignments up there."""
    course = getattr(args, "course", None)
    if course is None:
        return
    if not (course / "assignments").is_dir():
        raise UsageError(f"{course} is not a course folder (no assignments/ in it)")
    os.environ[COURSE_ENV] = str(course.resolve())


def assignment_from(args: argparse.Namespace) -> Assignment:
    """The assignment the command's options name, or a one-line usage error."""
    use_course(args)
    try:
        return load_assignment(args.assignment)
    except AssignmentError as exc:
        raise UsageError(str(exc)) from None
