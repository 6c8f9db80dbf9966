"""The machine report: `{"score", "max_score", "tests": [{"name", "part", "status", "score", "max_score",
"message", ...}]}` plus `parts`, `notes` and the grader version. These keys stay stable."""
from __future__ import annotations

import json

from grader.score import GradeResult


def render(result: GradeResult, include_output: bool = False, **_) -> str:
    return json.dumps(result.to_json(include_output=include_output), indent=2, ensure_ascii=False) + "\n"
