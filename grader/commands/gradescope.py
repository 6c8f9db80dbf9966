"""`micrograde gradescope build`: make the autograder zip to upload to a Gradescope programming assignment."""
from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Build the Gradescope autograder zip (setup.sh, run_autograder and the grader's source)."


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="write the autograder zip", description="Write the autograder zip.")
    build.add_argument("--out", type=Path, default=Path("micrograde-autograder.zip"),
                       help="where to write the zip (default: micrograde-autograder.zip)")


def run(args: argparse.Namespace) -> int:
    from grader.gradescope import build

    names = build(args.out)
    print(f"wrote {args.out} ({len(names)} files); upload it as the autograder of a Gradescope programming assignment")
    return 0
