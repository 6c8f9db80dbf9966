"""`micrograde publish --index DIR`: the student edition on a course's own package index.

A course that does not publish on PyPI serves DIR as it is (GitHub Pages, any web server): it is a static
simple index (PEP 503), one page listing the projects and one per project linking its wheels with their
sha256, so `pip install --extra-index-url URL micrograde-student==VERSION` finds the edition and checks
its bytes. The assignment's `student_index` names URL, and the template, its workflow and the notebook
install from there. Wheels already in DIR stay listed (students pinned to an older version keep it).
"""
from __future__ import annotations

import argparse
import hashlib
import html
import re
import shutil
import tempfile
from pathlib import Path

from grader.cli import UsageError
from grader.commands.options import add_assignment_options, assignment_from

HELP = "Build the student edition and write it into a static package index (PEP 503) a web server can host."

# A wheel's file name begins with its distribution's name, with every run of -_. written as one _.
WHEEL_NAME = re.compile(r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?)-[^-]+(-[^-]+)?-[^-]+-[^-]+-[^-]+\.whl$")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", type=Path, required=True, metavar="DIR", help="folder of the index (made if missing)")
    parser.add_argument("--wheel", type=Path, action="append", default=[], metavar="FILE",
                        help="publish this wheel as well (repeatable), e.g. the instructor's own")
    add_assignment_options(parser)


def run(args: argparse.Namespace) -> int:
    from grader.dist.student import build

    for wheel in args.wheel:
        if not wheel.is_file() or not WHEEL_NAME.match(wheel.name):
            raise UsageError(f"{wheel} is not a wheel file (name-version-python-abi-platform.whl)")
    if args.index.exists() and not args.index.is_dir():
        raise UsageError(f"{args.index} is not a folder")
    with tempfile.TemporaryDirectory() as staging:
        built = build(Path(staging), assignment_from(args).directory / "assignment.toml")
        for wheel in [built, *args.wheel]:
            add_wheel(args.index, wheel)
    write_index(args.index)
    print(f"wrote the index in {args.index}: serve that folder and set student_index to its URL")
    return 0


def project_name(name: str) -> str:
    """PEP 503's normalized name, the project's folder in the index."""
    return re.sub(r"[-_.]+", "-", name).lower()


def add_wheel(index: Path, wheel: Path) -> Path:
    """Copy `wheel` into its project's folder of the index."""
    match = WHEEL_NAME.match(wheel.name)
    if not match:
        raise UsageError(f"{wheel} is not a wheel file (name-version-python-abi-platform.whl)")
    folder = index / project_name(match["name"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / wheel.name
    shutil.copyfile(wheel, target)
    return target


def write_index(index: Path) -> None:
    """The root page and every project's page, from the wheels in the index's folders: sorted, so the same
    wheels give the same pages."""
    projects = sorted(folder for folder in index.iterdir() if folder.is_dir() and any(folder.glob("*.whl")))
    for folder in projects:
        links = [f'<a href="{html.escape(wheel.name)}#sha256={sha256(wheel)}">{html.escape(wheel.name)}</a><br>'
                 for wheel in sorted(folder.glob("*.whl"))]
        (folder / "index.html").write_text(page(f"Links for {folder.name}", links), encoding="utf-8")
    links = [f'<a href="{html.escape(folder.name)}/">{html.escape(folder.name)}</a><br>' for folder in projects]
    (index / "index.html").write_text(page("Simple index", links), encoding="utf-8")


def page(title: str, links: list[str]) -> str:
    body = "\n".join(links)
    return (f'<!DOCTYPE html>\n<html>\n<head><meta name="pypi:repository-version" content="1.0">'
            f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
