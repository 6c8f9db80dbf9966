"""Report formats: small writers over one `GradeResult`. A new format is one module registered here."""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

from grader.score import CheckResult, GradeResult, PartResult

# format name -> module under grader.report providing `render(result, **options) -> str`
FORMATS = {"text": "text", "json": "json_report", "markdown": "markdown", "github": "github",
           "gradescope": "gradescope", "junit": "junit", "html": "html", "classroom50": "classroom50",
           "prairielearn": "prairielearn"}

# How much of the student's own printed output a report shows.
OUTPUT_LINES = 40
OUTPUT_CHARS = 4000


def available() -> list[str]:
    """The formats this installation has (found, not imported: `--format`'s choices cost no import)."""
    return [name for name, module in FORMATS.items() if importlib.util.find_spec(f"grader.report.{module}")]


def renderer(name: str) -> Callable[..., str]:
    return importlib.import_module(f"grader.report.{FORMATS[name]}").render


def render(result: GradeResult, name: str, **options) -> str:
    return renderer(name)(result, **options)


def points(value: float) -> str:
    """Points as every report shows them: rounded to two decimals, no trailing zeros (3.33, 15, 0.5)."""
    return f"{round(value, 2):.2f}".rstrip("0").rstrip(".")


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 task`, `2 tasks`: a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"



def place(test: CheckResult) -> str | None:
    """Where a failure points, as every report says it: `file:line`, and where absent code belongs, so."""
    where = test.finding.where if test.finding else None
    if where is None:
        return None
    return f"{where.file}:{where.line}" + (" (where the missing code belongs)" if where.missing else "")


def checks_fail(part: PartResult) -> str:
    """How many of a part's checks fail, as its section's heading says it: "1 of 5 checks fails"."""
    failing = part.total - part.passed
    return f"{failing} of {plural(part.total, 'check')} fail{'s' * (failing == 1)}"


def others_fail(others: int, part: str) -> str:
    """The line under a part's headline failure for the part's other failing checks."""
    return f"{plural(others, 'more check')} of {part} fail{'s' * (others == 1)}, most likely for the same reason"


def number_text(value: object) -> str:
    """A value as reports show it: floats to six significant digits (no `-0.6000000000000001`), lists item
    by item, anything else as it is."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(number_text(item) for item in value) + "]"
    return str(value)


def status_text(part: PartResult) -> str:
    """A part's status in words: "waits for mul" rather than the bare "waiting"."""
    return part.message if part.status == "waiting" and part.message else part.status


def output_excerpt(output: str, lines: int = OUTPUT_LINES, chars: int = OUTPUT_CHARS) -> tuple[str, bool]:
    """The start of the student's printed output, and whether it was cut."""
    shown = output[:chars].split("\n")[:lines]
    text = "\n".join(shown).rstrip("\n")
    return text, len(text) < len(output.rstrip("\n"))
