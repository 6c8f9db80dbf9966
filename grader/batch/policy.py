"""Course policy applied to a class's gradebook: a due date, a late penalty, per-student extensions and
manual overrides, each declared in a small file the course keeps next to its submissions (or in the folder
given by `micrograde grade --policy DIR`):

    course-policy.toml   due = "2026-12-01T23:59:00Z"      the deadline (UTC, or with an offset)
                         grace_minutes = 15                 optional: a submission this late is on time
                         [late]
                         percent_per_day = 10               percent of the student's score lost per started day
                         max_days = 7                       optional: later than this, the score is 0
                         [canvas]
                         assignment_id = "12345"            optional: the Canvas column to import into
    extensions.csv       student,due,reason                 a later deadline for one student
                         (or student,days,reason: that many extra days)
    overrides.csv        student,score,reason               the score to record, whatever was graded

Nothing here changes a report: the policy is applied to the gradebook only, and each row's `audit` says
what changed its score and why. The submission times come from the export (see `grader.batch.submissions`),
so the same export gives the same late days however often it is graded again.
"""
from __future__ import annotations

import csv
import math
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from grader.report import points

POLICY_FILE = "course-policy.toml"
EXTENSIONS_FILE = "extensions.csv"
OVERRIDES_FILE = "overrides.csv"
POLICY_FILES = (POLICY_FILE, EXTENSIONS_FILE, OVERRIDES_FILE)
# Where a folder of submissions keeps the course's files: a hidden folder, which is never taken for a hand-in
# and no platform's export can hold, so no student can hand in a file the grader reads as the course's.
COURSE_FOLDER = ".micrograde"


def policy_folder(submissions: Path) -> Path:
    """Where the course's files for `submissions` are read from, unless --policy names a folder: the reserved
    folder inside a folder of submissions, or the folder holding a zip of them."""
    return submissions / COURSE_FOLDER if submissions.is_dir() else submissions.parent


def misplaced_policy_files(submissions: Path) -> list[Path]:
    """Course files at the top of a folder of submissions, where a hand-in could be: never read as the course's."""
    if not submissions.is_dir():
        return []
    return [submissions / name for name in POLICY_FILES if (submissions / name).exists()]
MAX_POLICY_BYTES = 1_000_000
SECONDS_PER_DAY = 86400


class PolicyError(ValueError):
    """A policy file cannot be read; the message names the file and, where it can, the line."""


@dataclass(frozen=True)
class Extension:
    due: datetime
    reason: str


@dataclass(frozen=True)
class Override:
    score: float
    reason: str


@dataclass
class Policy:
    """The course's rules; an empty Policy changes nothing."""
    due: datetime | None = None
    grace: timedelta = timedelta(0)
    percent_per_day: float = 0.0
    max_days: int | None = None
    canvas_assignment_id: str = ""
    extensions: dict[str, Extension] = field(default_factory=dict)
    overrides: dict[str, Override] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self.due is None and not self.extensions and not self.overrides and not self.canvas_assignment_id

    def to_json(self) -> dict:
        """The policy as plain data, saved in the output folder so that `merge` and reruns apply the same."""
        return {"due": _text(self.due), "grace_minutes": self.grace.total_seconds() / 60,
                "percent_per_day": self.percent_per_day, "max_days": self.max_days,
                "canvas_assignment_id": self.canvas_assignment_id,
                "extensions": {s: {"due": _text(e.due), "reason": e.reason} for s, e in sorted(self.extensions.items())},
                "overrides": {s: {"score": o.score, "reason": o.reason} for s, o in sorted(self.overrides.items())}}

    @classmethod
    def from_json(cls, data: dict) -> Policy:
        return cls(due=_instant(data.get("due"), "policy.json") if data.get("due") else None,
                   grace=timedelta(minutes=float(data.get("grace_minutes") or 0)),
                   percent_per_day=float(data.get("percent_per_day") or 0), max_days=data.get("max_days"),
                   canvas_assignment_id=str(data.get("canvas_assignment_id") or ""),
                   extensions={s: Extension(_instant(e["due"], "policy.json"), e["reason"])
                               for s, e in data.get("extensions", {}).items()},
                   overrides={s: Override(float(o["score"]), o["reason"]) for s, o in data.get("overrides", {}).items()})


@dataclass(frozen=True)
class Adjusted:
    """A gradebook score after the policy, and the audit text saying what changed it (empty: nothing)."""
    score: float
    audit: str


def load_policy(folder: Path) -> Policy:
    """The policy declared by the files in `folder` (any of them may be absent)."""
    policy = Policy()
    toml = folder / POLICY_FILE
    if toml.is_file():
        _read_toml(policy, toml)
    extensions = folder / EXTENSIONS_FILE
    if extensions.is_file():
        policy.extensions = _read_extensions(extensions, policy.due)
    overrides = folder / OVERRIDES_FILE
    if overrides.is_file():
        policy.overrides = _read_overrides(overrides)
    return policy


def _read_toml(policy: Policy, file: Path) -> None:
    try:
        data = tomllib.loads(_read(file))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{file}: {exc}") from None
    unknown = set(data) - {"due", "grace_minutes", "late", "canvas"}
    if unknown:
        raise PolicyError(f"{file}: unknown setting {min(unknown)!r} (known: due, grace_minutes, [late], [canvas])")
    if "due" in data:
        policy.due = _instant(data["due"], str(file))
    policy.grace = timedelta(minutes=_number(data.get("grace_minutes", 0), file, "grace_minutes"))
    late = data.get("late", {})
    if not isinstance(late, dict) or set(late) - {"percent_per_day", "max_days"}:
        raise PolicyError(f"{file}: [late] takes percent_per_day and max_days")
    policy.percent_per_day = _number(late.get("percent_per_day", 0), file, "late.percent_per_day")
    if policy.percent_per_day > 100:
        raise PolicyError(f"{file}: late.percent_per_day is a percentage, at most 100")
    if "max_days" in late:
        policy.max_days = int(_number(late["max_days"], file, "late.max_days"))
    canvas = data.get("canvas", {})
    if not isinstance(canvas, dict) or set(canvas) - {"assignment_id"}:
        raise PolicyError(f"{file}: [canvas] takes assignment_id")
    policy.canvas_assignment_id = str(canvas.get("assignment_id", "")).strip()
    if policy.canvas_assignment_id and not policy.canvas_assignment_id.isdigit():
        raise PolicyError(f"{file}: canvas.assignment_id is Canvas's number for the assignment, not "
                          f"{policy.canvas_assignment_id!r}")
    if (policy.percent_per_day or policy.max_days is not None) and policy.due is None:
        raise PolicyError(f"{file}: a [late] rule needs a due date (due = \"YYYY-MM-DDTHH:MM:SSZ\")")


def _read_extensions(file: Path, due: datetime | None) -> dict[str, Extension]:
    found = {}
    for line, row in _rows(file, ("student",), ("due", "days", "reason")):
        if row.get("due"):
            new_due = _instant(row["due"], f"{file}:{line}")
        elif row.get("days"):
            if due is None:
                raise PolicyError(f"{file}:{line}: extra days need a due date in {POLICY_FILE}")
            new_due = due + timedelta(days=_number(row["days"], file, "days", line))
        else:
            raise PolicyError(f"{file}:{line}: give the new due date (due) or the extra days (days)")
        found[row["student"]] = Extension(new_due, row.get("reason", ""))
    return found


def _read_overrides(file: Path) -> dict[str, Override]:
    return {row["student"]: Override(_number(row["score"], file, "score", line), row.get("reason", ""))
            for line, row in _rows(file, ("student", "score"), ("reason",))}


def _rows(file: Path, required: tuple[str, ...], optional: tuple[str, ...]):
    """(line number, row) for each data row, the columns checked against the ones this file takes."""
    reader = csv.DictReader(_read(file).splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in required if c not in columns]
    unknown = [c for c in columns if c not in required + optional]
    if missing or unknown:
        raise PolicyError(f"{file}: the columns are {', '.join(required + optional)} "
                          f"({'missing ' + missing[0] if missing else 'unknown ' + unknown[0]})")
    seen = set()
    for line, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not row.get("student"):
            raise PolicyError(f"{file}:{line}: no student id")
        if row["student"] in seen:
            raise PolicyError(f"{file}:{line}: {row['student']} is listed twice")
        seen.add(row["student"])
        yield line, row


def _read(file: Path) -> str:
    if file.stat().st_size > MAX_POLICY_BYTES:
        raise PolicyError(f"{file}: larger than {MAX_POLICY_BYTES} bytes")
    try:
        return file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{file}: cannot be read ({exc})") from None


def _number(value, file: Path, name: str, line: int | None = None) -> float:
    where = f"{file}:{line}" if line else str(file)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PolicyError(f"{where}: {name} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise PolicyError(f"{where}: {name} must be a number of 0 or more, not {value!r}")
    return number


def _instant(value, where: str) -> datetime:
    """A date-time with its offset (or Z); a bare date-time would mean different instants in different places."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise PolicyError(f"{where}: {value!r} is not a date-time like 2026-12-01T23:59:00Z") from None
    if moment.tzinfo is None:
        raise PolicyError(f"{where}: {value!r} has no time zone; add Z (UTC) or an offset like +01:00")
    return moment.astimezone(UTC)


def _text(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def apply(policy: Policy, student: str, score: float, max_score: float, status: str,
          submitted_at: str | None) -> Adjusted:
    """The score the gradebook records for one student, and why it differs from the graded score."""
    override = policy.overrides.get(student)
    if override is not None:
        reason = f" ({override.reason})" if override.reason else ""
        return Adjusted(override.score, f"override: {points(override.score)} instead of the graded {points(score)}{reason}")
    extension = policy.extensions.get(student)
    due = extension.due if extension else policy.due
    if due is None or status.startswith("error"):
        return Adjusted(score, "")
    granted = f"; extension to {_text(due)}" + (f" ({extension.reason})" if extension and extension.reason else "") \
        if extension else ""
    if not submitted_at:
        return Adjusted(score, f"no submission time in the export: no late rule applied{granted}")
    try:
        moment = _instant(submitted_at, f"{student}'s submission time")
    except PolicyError:  # a submission.json edited by hand, or from an older run
        return Adjusted(score, f"submission time {submitted_at[:40]!r} unreadable: no late rule applied{granted}")
    late_by = (moment - due).total_seconds()
    if late_by <= policy.grace.total_seconds():
        return Adjusted(score, f"on time{granted}" if extension else "")
    days = math.ceil(late_by / SECONDS_PER_DAY)
    when = f"submitted {submitted_at}, due {_text(due)}"
    if policy.max_days is not None and days > policy.max_days:
        return Adjusted(0.0, f"late {days} days ({when}), more than the {policy.max_days} accepted: "
                             f"0 instead of {points(score)}{granted}")
    percent = min(100.0, policy.percent_per_day * days)
    new = round(score * (1 - percent / 100), 2)
    if percent == 0:
        return Adjusted(score, f"late {days} day{'s' if days != 1 else ''} ({when}), no penalty declared{granted}")
    return Adjusted(new, f"late {days} day{'s' if days != 1 else ''} ({when}): -{percent:g}%, "
                         f"{new:g} instead of {score:g}{granted}")


def unknown_students(policy: Policy, students: set[str]) -> list[str]:
    """Ids named in extensions.csv or overrides.csv that are not in the class: most likely a typo."""
    return sorted((set(policy.extensions) | set(policy.overrides)) - students)
