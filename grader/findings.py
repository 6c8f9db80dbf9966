"""A finding: one failed check, explained as data.

The judge (grader/judge/) makes findings and nothing else; scoring, every report format, the notebook
view, CI annotations, the class summary and the dashboard read their fields. No view takes apart a
sentence the grader wrote: what a view needs (the op, the quantity used in place of another, the tasks a
failure waits for, where a missing statement belongs) is a field here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from grader.judge.diagnoses import ERROR_DIAGNOSES, describe


@dataclass(frozen=True)
class Location:
    """A place in the student's own code, as the student sees it: the file (for a notebook, the cell as
    Jupyter shows it), its first line and last line, and whether it is where something *missing* belongs
    (a deleted `return out`, a reflected method the op needs) rather than the statement that is wrong."""
    file: str
    line: int
    end_line: int | None = None
    missing: bool = False

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @classmethod
    def of(cls, place: tuple[str, int] | None, missing: bool = False) -> Location | None:
        """A locator's `(file, line)` as a location; `missing` when it is where absent code belongs."""
        return cls(place[0], place[1], missing=missing) if place else None


@dataclass(frozen=True)
class Cause:
    """The cause in fields, where the judge can name it: the op, the quantity the code used and the one
    that belongs there (`out.data` for `out.grad`), and the input it concerns (`a`, `b`)."""
    op: str | None = None
    used: str | None = None
    expected: str | None = None
    input: str | None = None


@dataclass(frozen=True)
class Finding:
    """What one check found wrong, on which case, and where in the student's code.

    `built_on` names the ops this failure comes from rather than the part's own code (ops it is built on
    that fail their own checks), and `stubs` the tasks whose stubs, not started yet, it ran into. `part`,
    `check` and `points_lost` are filled in by scoring, which knows the assignment's points."""
    diagnosis: str
    message: str
    case: str | None = None
    expected: object = None
    got: object = None
    numerical: object = None
    where: Location | None = None
    detail: str | None = None
    graph: dict | None = None
    cause: Cause = field(default_factory=Cause)
    built_on: tuple[str, ...] = ()
    stubs: tuple[str, ...] = ()
    part: str | None = None
    check: str | None = None
    points_lost: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.where, tuple):  # a locator's (file, line)
            object.__setattr__(self, "where", Location(*self.where))

    @property
    def title(self) -> str:
        return describe(self.diagnosis).title

    @property
    def hint(self) -> str:
        return describe(self.diagnosis).hint

    @property
    def severity(self) -> str:
        """"error" when nothing could be compared (the code raised, hung or is not there), else "failure"."""
        return "error" if self.diagnosis in ERROR_DIAGNOSES else "failure"

    @property
    def file(self) -> str | None:
        return self.where.file if self.where else None

    @property
    def line(self) -> int | None:
        return self.where.line if self.where else None

    def at(self, where: Location | tuple[str, int] | None) -> Finding:
        return replace(self, where=where)

    def to_json(self) -> dict:
        """The finding as plain data, field by field (the graph is shared, not copied)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(where=_plain(self.where), cause=_plain(self.cause), built_on=list(self.built_on),
                    stubs=list(self.stubs), title=self.title, hint=self.hint, severity=self.severity)
        return data


def _plain(record) -> dict | None:
    return None if record is None else {f.name: getattr(record, f.name) for f in fields(record)}


class Failed(AssertionError):
    """How a check reports its finding to the session that runs it."""

    def __init__(self, finding: Finding):
        self.finding = finding
        super().__init__(finding.message)
