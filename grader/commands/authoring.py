"""`micrograde authoring student|assignments`: regenerate what students receive from reference/.

`student` writes the assignment's template folder (student_template/); `assignments` writes each
assignment's README.md and notebook. With --check nothing is written: the exit status is 1 and the
out-of-date files are listed, so tests and CI catch a reference edit that was not regenerated.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from grader.assignment import AssignmentError
from grader.authoring.assignment_docs import build_assignment_docs
from grader.authoring.markers import AuthoringError
from grader.authoring.tasks import assignment_file, load
from grader.authoring.template import OWNED, build_template, template_dir
from grader.authoring.tree import GeneratedTree, out_of_date, write_tree
from grader.cli import UsageError
from grader.paths import REPO_DIR

HELP = "Regenerate student_template/ (student) or the assignments' README and notebook (assignments) from reference/."

TARGETS = {"student": "make student", "assignments": "make assignments"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=sorted(TARGETS), help="what to regenerate")
    parser.add_argument(
        "--assignment", metavar="ID",
        help="assignment id, a folder under assignments/ (default: micrograd for student, every one for assignments)",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 and list the out-of-date files")
    parser.add_argument(
        "--root", type=Path, default=REPO_DIR, metavar="DIR",
        help="the project checkout to read reference/ and assignments/ from and write into (default: this one)",
    )


def run(args: argparse.Namespace) -> int:
    root: Path = args.root.resolve()
    try:
        outputs = list(_outputs(args.target, root, args.assignment))
    except (AuthoringError, AssignmentError) as exc:
        raise UsageError(str(exc)) from None
    changed = []
    for tree, folder, owned in outputs:
        found = out_of_date(tree, folder, owned) if args.check else write_tree(tree, folder, owned)
        changed += [(folder / relative).relative_to(root).as_posix() for relative in found]
    if args.check:
        if changed:
            print(f"out of date (run `{TARGETS[args.target]}`):")
            print("\n".join(f"  {path}" for path in changed))
            return 1
        print("up to date")
        return 0
    print("\n".join(f"wrote {path}" for path in changed) if changed else "up to date")
    return 0


def _outputs(target: str, root: Path, assignment_id: str | None) -> list[tuple[GeneratedTree, Path, tuple[str, ...]]]:
    """Each generated tree with the folder it belongs in and the globs of that folder it owns."""
    if target == "student":
        assignment = load(root, assignment_id or "micrograd")
        return [(build_template(root, assignment), template_dir(root, assignment), OWNED)]
    ids = [assignment_id] if assignment_id else _every_assignment(root)
    if not ids:
        raise UsageError(f"no assignments under {root / 'assignments'}")
    outputs = []
    for each in ids:
        assignment = load(root, each)
        outputs.append((build_assignment_docs(root, assignment), assignment_file(root, each).parent, ()))
    return outputs


def _every_assignment(root: Path) -> list[str]:
    return sorted(path.parent.name for path in (root / "assignments").glob("*/assignment.toml"))
