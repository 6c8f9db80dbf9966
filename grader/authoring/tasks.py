"""The reference package and the tasks an assignment makes of it, as every generated document shows them.

A task's points and title come from the assignment file, its instruction from the solution marker,
and its concept (what the lecture teaches at that point) from its declaration in grader/parts.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.assignment import PART_IDS, Assignment, load_assignment
from grader.authoring.markers import AuthoringError, parse_regions, stub_regions
from grader.contract import PACKAGE
from grader.parts import concept

# The assignment in three lines, opening every document a student reads.
SUMMARY = (
    "You build micrograd, the tiny autograd engine of the lecture: a scalar `Value` that records how it was\n"
    "computed, a backward pass that applies the chain rule through that record, and a small neural network\n"
    "trained by gradient descent on top of it."
)

@dataclass(frozen=True)
class Task:
    """One part of an assignment. `instruction` and `file` are None for a part without a solution region."""

    id: str
    title: str
    points: float
    concept: str
    instruction: str | None
    file: str | None
    stubbed: bool

    @property
    def points_text(self) -> str:
        points = f"{self.points:g}"
        return f"{points} point" if points == "1" else f"{points} points"


def assignment_file(root: Path, assignment_id: str) -> Path:
    """Where the assignment `assignment_id` of the checkout at `root` keeps its TOML."""
    return root / "assignments" / assignment_id / "assignment.toml"


def load(root: Path, assignment_id: str) -> Assignment:
    """The assignment as the checkout at `root` defines it (not necessarily the installed checkout)."""
    return load_assignment(assignment_file(root, assignment_id))


def reference_sources(root: Path) -> dict[str, str]:
    """The reference package's modules, `"micrograd/engine.py"` → text, in file-name order."""
    package = root / "reference" / PACKAGE
    if not package.is_dir():
        raise AuthoringError(str(package), None, "no reference package here")
    return {f"{PACKAGE}/{path.name}": path.read_text(encoding="utf-8") for path in sorted(package.glob("*.py"))}


def student_sources(assignment: Assignment, sources: dict[str, str]) -> dict[str, str]:
    """The reference package as students get it: the assignment's stubs in, every other marker out.

    Raises AuthoringError when the assignment stubs a task that no region of the reference holds, or one
    that is not among its parts (a stub no instruction or report would mention).
    """
    unlisted = [part_id for part_id in assignment.stubs if all(part.id != part_id for part in assignment.parts)]
    if unlisted:
        raise AuthoringError(str(assignment.directory / "assignment.toml"), None,
                             f"stubs {unlisted} are not among the [[parts]]")
    found = {region.part_id for name, text in sources.items() for region in parse_regions(text, name)}
    missing = [part_id for part_id in assignment.stubs if part_id not in found]
    if missing:
        raise AuthoringError(
            str(assignment.directory / "assignment.toml"), None,
            f"stubs {missing} have no solution region in reference/{PACKAGE}/; regions: {', '.join(sorted(found))}",
        )
    return {name: stub_regions(text, assignment.stubs, name) for name, text in sources.items()}


def tasks(assignment: Assignment, sources: dict[str, str]) -> list[Task]:
    """Every part of the assignment in lecture order, with what the reference says about it."""
    regions = {region.part_id: (name, region) for name, text in sources.items() for region in parse_regions(text, name)}
    found = []
    for part in sorted(assignment.parts, key=lambda p: PART_IDS.index(p.id)):
        file, region = regions.get(part.id, (None, None))
        found.append(Task(
            id=part.id,
            title=part.title,
            points=part.points,
            concept=concept(part.id),
            instruction=region.instruction if region else None,
            file=file,
            stubbed=part.id in assignment.stubs,
        ))
    return found
