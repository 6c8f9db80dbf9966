"""`micrograde classroom50 build|grade`: grade on Classroom 50 (foundation50/classroom50).

`build --out CONFIG_REPO` writes CLASSROOM/autograders/ASSIGNMENT/ in a checkout of the course's
`classroom50` repository: `autograder.py`, which Classroom 50's runner starts once per submission in the
student's checkout, and the student edition of the grader it installs (a wheel, checked against its
sha256; no solution, no hidden checks, so the bundle may be published). `grade [CHECKOUT]` is what that
autograder.py runs: it grades the checkout once and writes `result.json` (see grader/report/classroom50.py)
and `release-body.md` beside it.
"""
from __future__ import annotations

import argparse
import hashlib
import re
import shutil
from pathlib import Path

from grader.cli import UsageError
from grader.commands.options import add_assignment_options, assignment_from, use_course

HELP = "Write the Classroom 50 autograder bundle (build), or grade a checkout as that autograder does (grade)."
RESULT_FILE = "result.json"
RELEASE_BODY = "release-body.md"
# Classroom 50's short names and slugs: lowercase letters, digits and hyphens.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")

AUTOGRADER = '''\
"""Classroom 50 autograder for @ASSIGNMENT@, written by `micrograde classroom50 build`; rebuild, do not edit.

Classroom 50's runner starts this once per submission, in the student's checkout. It installs the student
edition of micrograde shipped beside it (checked against its sha256: no solution, no hidden checks), then
grades the checkout, which writes ./result.json (classroom50/result/v1) and ./release-body.md. A non-zero
exit means the grader itself could not run; the runner then records an error result.
"""
import hashlib
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEEL = HERE / "@WHEEL@"
SHA256 = "@SHA256@"


def main() -> int:
    if not WHEEL.is_file() or hashlib.sha256(WHEEL.read_bytes()).hexdigest() != SHA256:
        print(f"::error::{WHEEL.name} is missing or is not the wheel this autograder was built with", file=sys.stderr)
        return 1
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(WHEEL)]
    if subprocess.run(install, check=False).returncode != 0:
        print("::error::could not install the grader", file=sys.stderr)
        return 1
    return subprocess.run([sys.executable, "-m", "grader", "classroom50", "grade", "."], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
'''


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="write CLASSROOM/autograders/ASSIGNMENT/ for Classroom 50",
                               description="Write CLASSROOM/autograders/ASSIGNMENT/ (autograder.py and the "
                                           "student edition's wheel) into a checkout of the course's classroom50 "
                                           "repository.")
    build.add_argument("--out", type=Path, default=Path("."), help="the classroom50 repository checkout (default: .)")
    build.add_argument("--classroom", required=True, help="the classroom's short name")
    build.add_argument("--slug", required=True, help="the assignment's slug in Classroom 50")
    add_assignment_options(build)
    grade = actions.add_parser("grade", help="grade a checkout and write result.json and release-body.md",
                               description="Grade a checkout as the autograder does: write result.json "
                                           "(identity from the runner's environment) and release-body.md in it.")
    grade.add_argument("checkout", type=Path, nargs="?", default=Path("."), help="the student's checkout (default: .)")
    add_assignment_options(grade)


def run(args: argparse.Namespace) -> int:
    return build(args) if args.action == "build" else grade(args)


def build(args: argparse.Namespace) -> int:
    import tempfile

    from grader.assignment import AssignmentError

    try:
        from grader.dist.student import build as build_wheel
    except ModuleNotFoundError:
        raise UsageError("the bundle is built from the instructor's checkout of micrograde, "
                         "not from the student edition") from None

    for name, value in (("--classroom", args.classroom), ("--slug", args.slug)):
        if not SLUG.match(value):
            raise UsageError(f"{name} {value!r}: use lowercase letters, digits and hyphens, as Classroom 50 does")
    use_course(args)
    bundle = args.out / args.classroom / "autograders" / args.slug
    with tempfile.TemporaryDirectory(prefix="micrograde-c50-") as tmp:
        try:
            wheel = build_wheel(Path(tmp), args.assignment)
        except AssignmentError as exc:
            raise UsageError(str(exc)) from None
        bundle.mkdir(parents=True, exist_ok=True)
        for old in bundle.glob("*.whl"):
            old.unlink()
        shutil.copyfile(wheel, bundle / wheel.name)
    digest = hashlib.sha256((bundle / wheel.name).read_bytes()).hexdigest()
    text = AUTOGRADER.replace("@ASSIGNMENT@", args.slug).replace("@WHEEL@", wheel.name).replace("@SHA256@", digest)
    (bundle / "autograder.py").write_text(text, encoding="utf-8")
    print(f"wrote {bundle}/autograder.py and {wheel.name}; commit them to the classroom50 repository")
    return 0


def grade(args: argparse.Namespace) -> int:
    from grader.pipeline import grade_one
    from grader.report.classroom50 import release_body, render

    checkout = args.checkout
    if not checkout.is_dir():
        raise UsageError(f"{checkout} is not a folder (the student's checkout)")
    assignment = assignment_from(args)
    result = grade_one(checkout.resolve(), assignment)
    # Written last to first: a result.json on disk always comes with its release body.
    (checkout / RELEASE_BODY).write_text(release_body(result), encoding="utf-8")
    (checkout / RESULT_FILE).write_text(render(result, checkout=checkout), encoding="utf-8")
    print(f"{result.score:g} / {result.max_score:g}: wrote {checkout / RESULT_FILE} and {checkout / RELEASE_BODY}")
    return 0
