"""The `micrograde` command: one subcommand for each thing it does, each in its own module under
grader/commands/.

A subcommand module provides `HELP` (one line), `configure(parser)` to declare its arguments, and
`run(args) -> int` returning the exit status. Adding a command means adding one module and one name here.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import sys

from grader import __version__

COMMANDS = ("check", "assignments", "grade", "merge", "selftest", "authoring", "gradescope", "classroom50", "publish", "sandbox")

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: printed as one clear line, exit status 2, never a traceback."""


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the arguments of one command, of that command only, so a
    `micrograde check` does not import the batch, authoring and platform modules it never uses (a student
    waits for every import on every check)."""
    parser = argparse.ArgumentParser(prog="micrograde", description="Grade micrograd engines and explain what is wrong.")
    parser.add_argument("--version", action="version", version=f"micrograde {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = argv[0] if argv else None
    for name in (named,) if named in COMMANDS else COMMANDS:
        try:
            module = importlib.import_module(f"grader.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"grader.commands.{name}":
                raise
            continue
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"micrograde {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("micrograde: interrupted", file=sys.stderr)
        return 130


def entry() -> int:
    """The `micrograde` command itself: `main`, then an exit that skips the garbage collection of what the
    command made (for the graphs of a graded submission it takes longer than reporting on them)."""
    status = main()
    gc.freeze()
    return status
