"""What the checks see: for one submission, each probe with the student's and the reference's answers.

Checks read `Evidence` and never touch student code; a failed check raises `Finding`, which carries the
diagnosis code, the smallest failing case and the student's `file:line` into every report format.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from grader.judge.diagnoses import describe
from grader.judge.statements import Sources
from grader.protocol import well_formed


class Finding(AssertionError):
    """A failed check, explained: what was wrong, on which case, and where in the student's code."""

    def __init__(self, diagnosis: str, message: str, *, case: str | None = None, expected=None, got=None,
                 numerical=None, where: tuple[str, int] | None = None, detail: str | None = None,
                 graph: dict | None = None):
        self.diagnosis = diagnosis
        self.case = case
        self.expected, self.got, self.numerical = expected, got, numerical
        self.where = where
        self.detail = detail
        self.graph = graph
        self.hint = describe(diagnosis).hint
        self.title = describe(diagnosis).title
        self.text = message
        super().__init__(message)

    def as_dict(self) -> dict:
        return {"diagnosis": self.diagnosis, "title": self.title, "case": self.case, "expected": self.expected,
                "got": self.got, "numerical": self.numerical, "hint": self.hint, "detail": self.detail,
                "file": self.where[0] if self.where else None, "line": self.where[1] if self.where else None,
                "graph": self.graph}


@dataclass(frozen=True)
class Case:
    probe: dict
    student: dict
    reference: dict

    @property
    def label(self) -> str:
        return self.probe["label"]


@dataclass
class Evidence:
    """Answers to the probe plan for one submission (student) and for the reference engine."""
    probes: list[dict]
    student: dict[str, dict]
    reference: dict[str, dict]
    locate: Callable[[str, int], tuple[str, int]] = lambda path, line: (path, line)
    load: dict = field(default_factory=dict)
    sources: Sources = field(default_factory=Sources)  # the staged source, read before any child ran
    memo: dict = field(default_factory=dict)  # judgements shared between checks of one submission

    def __post_init__(self) -> None:
        self.student = {p["id"]: well_formed(p, self.student.get(p["id"])) for p in self.probes}
        self._by_part: dict[str | None, list[dict]] = {}  # the plan's probes by part, in plan order
        for p in self.probes:
            self._by_part.setdefault(p.get("part"), []).append(p)

    def op_parts(self, kind: str = "op", check: str | None = None) -> list[str]:
        """The op parts this evidence has cases of (of `kind`, and `check` for op cases), in plan order."""
        found: dict[str, None] = {}
        for p in self.probes:
            if p["kind"] == kind and (check is None or p.get("check") == check):
                for part in p.get("parts") or [p["part"]]:
                    found[part] = None
        return list(found)

    def cases(self, part: str | None = None, kind: str | None = None, check: str | None = None) -> list[Case]:
        probes = self.probes if part is None else self._by_part.get(part, ())
        return [Case(p, self.student[p["id"]], self.reference[p["id"]]) for p in probes
                if (kind is None or p["kind"] == kind) and (check is None or p.get("check") == check)]

    def where(self, raw) -> tuple[str, int] | None:
        """A `[file, line]` reported by the child, as the student's own file and line."""
        if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str) and isinstance(raw[1], int)):
            return None
        return self.locate(raw[0], raw[1])
