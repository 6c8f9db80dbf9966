"""What the checks see: for one submission, each probe with the student's and the reference's answers.

Checks read `Evidence` and never touch student code; a failed check raises `Failed` with its `Finding`
(grader/findings.py), which carries the diagnosis code, the smallest failing case and the student's
`file:line` into every report format.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from grader.findings import Cause, Failed, Finding, Location
from grader.judge.statements import Sources
from grader.protocol import well_formed

__all__ = ["Case", "Cause", "Evidence", "Failed", "Finding", "Location", "stub_tasks"]

_STUB_MESSAGE = re.compile(r"Task (\w+):")


def stub_tasks(error: dict | None) -> tuple[str, ...]:
    """The task whose stub raised, from a template stub's `NotImplementedError("Task mul: ...")`: the one
    place the child's error text is read for a fact, so a failure can say it waits for that task."""
    if not error or error.get("type") != "NotImplementedError":
        return ()
    found = _STUB_MESSAGE.match(str(error.get("message", "")))
    return (found.group(1),) if found else ()


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

    def attribute(self, role: str) -> str:
        """The engine's own name for `role` ("data", "grad"), as discovery found it in the child: the
        lecture's name unless the child named a plain identifier."""
        shape = self.load.get("shape") if isinstance(self.load, dict) else None
        name = shape.get(role) if isinstance(shape, dict) else None
        return name if isinstance(name, str) and name.isidentifier() else role

    @property
    def keeps_local_grads(self) -> bool:
        """Whether the engine stores each node's local derivatives (microgpt style) instead of closures."""
        shape = self.load.get("shape") if isinstance(self.load, dict) else None
        return isinstance(shape, dict) and shape.get("style") == "local_grads"

    def where(self, raw) -> tuple[str, int] | None:
        """A `[file, line]` reported by the child, as the student's own file and line."""
        if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str) and isinstance(raw[1], int)):
            return None
        return self.locate(raw[0], raw[1])
