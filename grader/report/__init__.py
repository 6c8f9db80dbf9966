"""Report formats: small writers over one `GradeResult`. A new format is one module registered here."""
from __future__ import annotations

import importlib
from collections.abc import Callable

from grader.score import GradeResult

# format name -> module under grader.report providing `render(result, **options) -> str`
FORMATS = {"text": "text", "json": "json_report", "markdown": "markdown", "github": "github",
           "gradescope": "gradescope", "junit": "junit", "classroom50": "classroom50", "prairielearn": "prairielearn"}


def available() -> list[str]:
    names = []
    for name, module in FORMATS.items():
        try:
            importlib.import_module(f"grader.report.{module}")
        except ModuleNotFoundError:
            continue
        names.append(name)
    return names


def renderer(name: str) -> Callable[..., str]:
    return importlib.import_module(f"grader.report.{FORMATS[name]}").render


def render(result: GradeResult, name: str, **options) -> str:
    return renderer(name)(result, **options)
