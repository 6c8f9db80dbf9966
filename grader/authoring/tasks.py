"""The reference package and the tasks an assignment makes of it, as every generated document shows them.

A task's points and title come from the assignment file, its instruction from the solution marker,
and its concept (what the lecture teaches at that point) from CONCEPTS below.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.assignment import PART_IDS, Assignment, load_assignment
from grader.authoring.markers import AuthoringError, parse_regions, stub_regions

PACKAGE = "micrograd"

# The assignment in three lines, opening every document a student reads.
SUMMARY = (
    "You build micrograd, the tiny autograd engine of the lecture: a scalar `Value` that records how it was\n"
    "computed, a backward pass that applies the chain rule through that record, and a small neural network\n"
    "trained by gradient descent on top of it."
)

# What the lecture teaches with each part, one or two sentences a student reads before writing the code.
CONCEPTS = {
    "add": "A `+` node passes its gradient through unchanged: the local derivative is 1 for both inputs. "
           "Gradients accumulate with `+=`, because a value used twice (`a + a`) collects a share from each use.",
    "mul": "A `*` node swaps its inputs: the local derivative with respect to one input is the other input's "
           "value, multiplied by the output's gradient (the chain rule).",
    "pow": "The power rule for a constant exponent, d(x**k)/dx = k * x**(k-1). With it, division needs no "
           "code of its own: a / b is a * b**-1.",
    "exp": "The exponential is its own derivative, so the backward pass reuses the output's value.",
    "tanh": "The neuron's squashing activation. Its derivative 1 - tanh(x)**2 needs only the output, so one "
            "node stands in for the whole formula built from exp.",
    "relu": "A piecewise-linear activation: the gradient flows through where the input was positive and "
            "stops where it was not.",
    "neg": "Negation is multiplication by -1: an operation built from others needs no backward pass of its own.",
    "sub": "a - b is a + (-b), so its gradient comes from add and neg.",
    "div": "a / b is a * b**-1, so its gradient comes from mul and pow.",
    "backward": "Backpropagation visits the graph in reverse topological order, so a node's gradient is "
                "complete before it is passed on; the output's own gradient is seeded with 1.",
    "zero_grad": "backward() adds to .grad, so each training step must first reset every parameter's "
                 "gradient; forgetting it is the bug the lecture walks into.",
    "train": "Gradient descent: forward pass, loss, zero the gradients, backward pass, then move every "
             "parameter a small step against its gradient.",
}


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
    unlisted = [task_id for task_id in assignment.stubs if all(part.id != task_id for part in assignment.parts)]
    if unlisted:
        raise AuthoringError(str(assignment.directory / "assignment.toml"), None,
                             f"stubs {unlisted} are not among the [[parts]]")
    found = {region.task_id for name, text in sources.items() for region in parse_regions(text, name)}
    missing = [task_id for task_id in assignment.stubs if task_id not in found]
    if missing:
        raise AuthoringError(
            str(assignment.directory / "assignment.toml"), None,
            f"stubs {missing} have no solution region in reference/{PACKAGE}/; regions: {', '.join(sorted(found))}",
        )
    return {name: stub_regions(text, assignment.stubs, name) for name, text in sources.items()}


def tasks(assignment: Assignment, sources: dict[str, str]) -> list[Task]:
    """Every part of the assignment in lecture order, with what the reference says about it."""
    regions = {region.task_id: (name, region) for name, text in sources.items() for region in parse_regions(text, name)}
    found = []
    for part in sorted(assignment.parts, key=lambda p: PART_IDS.index(p.id)):
        file, region = regions.get(part.id, (None, None))
        found.append(Task(
            id=part.id,
            title=part.title,
            points=part.points,
            concept=CONCEPTS.get(part.id, ""),
            instruction=region.instruction if region else None,
            file=file,
            stubbed=part.id in assignment.stubs,
        ))
    return found
