"""Run the checks (pytest tests in grader/checks/) over collected evidence, in the grader's own process.

pytest-json-report produces the raw results; a metadata hook adds each test's submission, part and
finding to them. Many submissions can be judged in one session (the `evidence` fixture is parametrized
over them), which is what makes batch grading fast.
"""
from __future__ import annotations

import contextlib
import io
import os
from functools import partial
from pathlib import Path

import pytest
from pytest_jsonreport.plugin import JSONReport

from grader.judge.evidence import Evidence, Finding

CHECKS_DIR = Path(__file__).resolve().parent.parent / "checks"
# pytest's per-test services the checks do not use (they neither log, warn, print nor use tmp_path);
# each costs time on every one of the thousands of tests a batch runs.
UNUSED_PLUGINS = [arg for name in ("cacheprovider", "logging", "warnings", "faulthandler", "threadexception",
                                   "unraisableexception", "junitxml", "doctest", "pastebin", "stepwise",
                                   "setuponly", "setupplan", "tmpdir", "monkeypatch", "recwarn")
                  for arg in ("-p", f"no:{name}")]


class EvidencePlugin:
    """Hands each check the evidence of every submission, and records what each check found."""

    def __init__(self, evidences: dict[str, Evidence]):
        self.evidences = evidences

    def pytest_generate_tests(self, metafunc):
        """Each check runs once per submission; an op check (marked `op_cases`) once per submission and
        op part that has such cases, so a part is graded only by checks that have evidence for it."""
        if "evidence" not in metafunc.fixturenames:
            return
        marker = metafunc.definition.get_closest_marker("op_cases")
        if "part" not in metafunc.fixturenames or marker is None:
            metafunc.parametrize("evidence", list(self.evidences.values()), ids=list(self.evidences))
            return
        pairs = [(name, ev, part) for name, ev in self.evidences.items() for part in ev.op_parts(**marker.kwargs)]
        metafunc.parametrize(["evidence", "part"], [(ev, part) for _, ev, part in pairs],
                             ids=[f"{name}-{part}" for name, _, part in pairs])

    def pytest_collection_modifyitems(self, items):
        for item in items:
            item.repr_failure = partial(finding_repr, item.repr_failure)

    def pytest_json_runtest_metadata(self, item, call):
        if call.when != "call":
            return {}
        params = item.callspec.params
        submission = next(key for key, ev in self.evidences.items() if ev is params["evidence"])
        part = params.get("part") or getattr(item.module, "PART", None)
        finding = call.excinfo.value if call.excinfo and isinstance(call.excinfo.value, Finding) else None
        return {"submission": submission, "part": part, "check": item.originalname,
                "doc": (item.function.__doc__ or "").strip().split("\n")[0],
                "finding": {"message": finding.text, **finding.as_dict()} if finding else None}


def finding_repr(default, excinfo, style=None):
    """A Finding is its own message: skip pytest's traceback formatting, which for the thousands of
    expected failures of a batch costs more than the checks. Anything else (a bug in a check) keeps it."""
    if isinstance(excinfo.value, Finding):
        return str(excinfo.value)
    return default(excinfo) if style is None else default(excinfo, style)


def run_checks(evidences: dict[str, Evidence], checks_dir: Path = CHECKS_DIR) -> list[dict]:
    """Every check's raw result for every submission, as pytest-json-report's test entries."""
    report = JSONReport()
    args = [str(checks_dir), "-q", "-s", *UNUSED_PLUGINS, "-p", "pytest_jsonreport.plugin",
            "--rootdir", str(checks_dir), "-c", str(checks_dir / "pytest.ini"), "--json-report-file=none",
            "--json-report-omit", "log", "traceback", "streams", "keywords", "collectors", "warnings",
            "--tb=no", "--no-header", "-o", "console_output_style=classic"]
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
            code = pytest.main(args, plugins=[EvidencePlugin(evidences), report])
    finally:
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
    if report.report is None or code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the checks could not run (pytest exit {int(code)}):\n{out.getvalue()[-2000:]}")
    return report.report["tests"]
