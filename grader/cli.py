"""The `micrograde` command: one subcommand per job, each in its own module under grader/commands/.

A subcommand module provides `HELP` (one line), `configure(parser)` to declare its arguments, and
`run(args) -> int` returning the exit status. Adding a job means adding one module and one name here.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from grader import __version__

COMMANDS = ("check", "grade", "merge", "selftest", "authoring", "gradescope", "classroom50", "sandbox")

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: printed as one clear line, exit status 2, never a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="micrograde", description="Grade micrograd engines and explain what is wrong.")
    parser.add_argument("--version", action="version", version=f"micrograde {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
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
    parser = build_parser()
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
