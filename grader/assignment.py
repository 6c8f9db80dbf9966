"""An assignment: its parts, the points of each, which solution regions are handed out as stubs, and
which checks are hidden from students.

Everything is read from `assignments/<id>/assignment.toml`: a course folder's (`--course DIR`), else the
checkout's, else the copy an installed wheel ships in `grader/data/assignments/<id>/`; nothing about points, stubs
or hidden checks is hard-coded elsewhere, so an instructor changes a weight or hands out the topological
sort by editing that file.
"""
from __future__ import annotations

import ast
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grader.data import ASSIGNMENTS_DATA_DIR
from grader.parts import PART_IDS, is_op
from grader.paths import ASSIGNMENTS_DIR, CHECKOUT_DIR

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
OP_CHECKS = "test_ops.py"  # the checks every op part is graded by
COURSE_ENV = "MICROGRADE_COURSE"


class AssignmentError(ValueError):
    """The assignment file is missing or says something the grader cannot use."""


@dataclass(frozen=True)
class AssignedPart:
    """A part as one assignment grades it: the title its students read and its points. What the part is
    (an `Op`, or one of backward, zero_grad and train) is declared once, in grader/parts.py."""
    id: str
    title: str
    points: float


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    template: str
    stubs: tuple[str, ...]
    parts: tuple[AssignedPart, ...]
    directory: Path
    hidden: tuple[str, ...] = ()
    student_edition: str | None = None
    student_index: str | None = None  # the package index students install the student edition from
    strict_names: bool = False  # require the contract's names instead of discovering the engine's own

    @property
    def max_score(self) -> float:
        return sum(part.points for part in self.parts)

    @property
    def secret_dir(self) -> Path:
        """Where the instructor's secret for this assignment is kept: beside its TOML in a course folder or
        the checkout; for an assignment shipped inside the installed package, in the user's configuration
        folder, never in site-packages."""
        if not self.directory.resolve().is_relative_to(ASSIGNMENTS_DATA_DIR):
            return self.directory
        config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        folder = config / "micrograde" / self.id
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def part(self, part_id: str) -> AssignedPart:
        for part in self.parts:
            if part.id == part_id:
                return part
        raise KeyError(part_id)


def course_dir() -> Path | None:
    """The course folder named by MICROGRADE_COURSE (set by `--course DIR`), if any: a folder holding
    `assignments/<id>/assignment.toml` of the course's own. Never the current folder: a student's own
    folder must not choose the points it is graded by."""
    named = os.environ.get(COURSE_ENV)
    return Path(named).resolve() if named else None


def assignment_folders() -> list[tuple[str, Path]]:
    """Where assignments are looked up, first match wins: the course folder's, the checkout's (or, in an
    installed wheel, the ones it ships)."""
    course = course_dir()
    found = [("course", course / "assignments")] if course else []
    found.append(("checkout", ASSIGNMENTS_DIR) if CHECKOUT_DIR else ("shipped", ASSIGNMENTS_DATA_DIR))
    return found


def assignment_path(name_or_path: str | Path) -> Path:
    """The TOML file of an assignment id (the first of `assignment_folders()` that has it), or `name_or_path`
    itself when it names a .toml file."""
    path = Path(name_or_path)
    if path.suffix == ".toml":
        return path
    candidates = [folder / str(name_or_path) / "assignment.toml" for _, folder in assignment_folders()]
    return next((candidate for candidate in candidates if candidate.is_file()), candidates[0])


def available_assignments() -> list[tuple[str, Path]]:
    """Every assignment id that `load_assignment` finds, with where it comes from, in lookup order."""
    seen: dict[str, tuple[str, Path]] = {}
    for origin, folder in assignment_folders():
        for toml in sorted(folder.glob("*/assignment.toml")) if folder.is_dir() else ():
            seen.setdefault(toml.parent.name, (origin, toml))
    return [(name, path) for name, (_, path) in seen.items()]


def load_assignment(name_or_path: str | Path = "micrograd") -> Assignment:
    """Read an assignment by id or by the path of its TOML file (see `assignment_path`)."""
    path = assignment_path(name_or_path)
    if not path.is_file():
        raise AssignmentError(f"no assignment file at {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{path}: not valid TOML: {exc}") from None
    parts = tuple(read_part(p, path) for p in raw.get("parts", []))
    if not parts:
        raise AssignmentError(f"{path}: no [[parts]]")
    unknown = [p.id for p in parts if p.id not in PART_IDS]
    if unknown:
        raise AssignmentError(f"{path}: unknown part ids {unknown}; known: {', '.join(PART_IDS)}")
    repeated = sorted({p.id for p in parts if [q.id for q in parts].count(p.id) > 1})
    if repeated:
        raise AssignmentError(f"{path}: parts {repeated} are listed more than once")
    unchecked = [p.id for p in parts if not checks_of(p.id)]
    if unchecked:
        raise AssignmentError(f"{path}: parts {unchecked} have no checks (an op needs its declaration in "
                              "grader/parts.py; any other part needs grader/checks/test_<id>.py)")
    strict = raw.get("strict_names", False)
    if not isinstance(strict, bool):
        raise AssignmentError(f"{path}: `strict_names` must be true or false, got {strict!r}")
    return Assignment(
        id=raw.get("id", path.parent.name),
        title=raw.get("title", path.parent.name),
        template=raw.get("template", "student_template"),
        stubs=tuple(raw.get("stubs", [])),
        parts=parts,
        directory=path.parent,
        hidden=hidden_checks(raw.get("hidden", []), path),
        student_edition=student_edition(raw.get("student_edition"), path),
        student_index=student_index(raw.get("student_index"), path),
        strict_names=strict,
    )


def read_part(raw: object, path: Path) -> AssignedPart:
    """One [[parts]] table: a string id, an optional title and a number of points."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise AssignmentError(f"{path}: every [[parts]] entry needs an `id` string, got {raw!r}")
    points = raw.get("points", 0)
    if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
        raise AssignmentError(f"{path}: part {raw['id']!r} has points {points!r}; give a number of 0 or more")
    return AssignedPart(raw["id"], str(raw.get("title", raw["id"])), float(points))


def checks_of(part_id: str, checks_dir: Path | None = None) -> tuple[str, ...]:
    """The names of the checks that grade a part: the op checks for an op, else its own file's."""
    file = OP_CHECKS if is_op(part_id) else f"test_{part_id}.py"
    return check_names(checks_dir or CHECKS_DIR).get(file, ())


def hidden_checks(names: object, path: Path, checks_dir: Path = CHECKS_DIR) -> tuple[str, ...]:
    """The assignment's `hidden` list, checked: names of check functions in grader/checks/, each once, and
    never every check of a file (the student edition scores a part by the checks it still has)."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise AssignmentError(f'{path}: `hidden` must be a list of check names, like hidden = ["test_deep_chain"]')
    checks = check_names(checks_dir)
    known = {name for names_in_file in checks.values() for name in names_in_file}
    unknown = sorted(set(names) - known)
    if unknown:
        raise AssignmentError(f"{path}: `hidden` names unknown checks {unknown}; known: {', '.join(sorted(known))}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise AssignmentError(f"{path}: `hidden` names {repeated} more than once")
    for file, names_in_file in checks.items():
        if names_in_file and set(names_in_file) <= set(names):
            raise AssignmentError(f"{path}: `hidden` names every check of grader/checks/{file}; keep at least one "
                                  "visible, or students' CI would have nothing to score those parts by")
    return tuple(names)


def student_edition(value: object, path: Path) -> str | None:
    """Where students' CI installs the student edition from, if the assignment says."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise AssignmentError(f"{path}: `student_edition` must be one wheel URL, package name or git URL, "
                              f"without spaces; got {value!r}")
    return value


def student_index(value: object, path: Path) -> str | None:
    """The simple package index (PEP 503) the course publishes the student edition on, if not PyPI: what
    `micrograde publish --index` wrote, served over https (or http on a course's own network)."""
    if value is None:
        return None
    if (not isinstance(value, str) or any(c.isspace() or c in "\"'\\" for c in value)
            or not value.startswith(("https://", "http://"))):
        raise AssignmentError(f"{path}: `student_index` must be the http(s) URL of a package index, without "
                              f"spaces or quotes; got {value!r}")
    return value if value.endswith("/") else value + "/"


@lru_cache(maxsize=4)
def check_names(checks_dir: Path = CHECKS_DIR) -> dict[str, tuple[str, ...]]:
    """The check functions of each grader/checks/test_*.py file (read, not imported), by file name."""
    checks = {}
    for file in sorted(checks_dir.glob("test_*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
        checks[file.name] = tuple(node.name for node in tree.body
                                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test"))
    return checks
