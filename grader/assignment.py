"""An assignment: its parts, the points of each, and which solution regions are handed out as stubs.

Everything is read from `assignments/<id>/assignment.toml`; nothing about points or stubs is hard-coded
elsewhere, so an instructor changes a weight or hands out the topological sort by editing that file.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader.paths import ASSIGNMENTS_DIR

# Every part id the grader knows, in lecture order. Course staff script against these names.
PART_IDS = ("add", "mul", "pow", "exp", "tanh", "relu", "neg", "sub", "div", "backward", "zero_grad", "train")


class AssignmentError(ValueError):
    """The assignment file is missing or says something the grader cannot use."""


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    points: float


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    template: str
    stubs: tuple[str, ...]
    parts: tuple[Part, ...]
    directory: Path

    @property
    def max_score(self) -> float:
        return sum(part.points for part in self.parts)

    def part(self, part_id: str) -> Part:
        for part in self.parts:
            if part.id == part_id:
                return part
        raise KeyError(part_id)


def load_assignment(name_or_path: str | Path = "micrograd") -> Assignment:
    """Read an assignment by id (a folder under assignments/) or by the path of its TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = ASSIGNMENTS_DIR / str(name_or_path) / "assignment.toml"
    if not path.is_file():
        raise AssignmentError(f"no assignment file at {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{path}: not valid TOML: {exc}") from None
    parts = tuple(Part(p["id"], p.get("title", p["id"]), float(p.get("points", 0))) for p in raw.get("parts", []))
    unknown = [p.id for p in parts if p.id not in PART_IDS]
    if unknown:
        raise AssignmentError(f"{path}: unknown part ids {unknown}; known: {', '.join(PART_IDS)}")
    return Assignment(
        id=raw.get("id", path.parent.name),
        title=raw.get("title", path.parent.name),
        template=raw.get("template", "student_template"),
        stubs=tuple(raw.get("stubs", [])),
        parts=parts,
        directory=path.parent,
    )
