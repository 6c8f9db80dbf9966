"""Run the checks (pytest tests in grader/checks/) over collected evidence, in the grader's own process.

pytest collects and parametrizes the checks. A check that takes only its parameters (`evidence`, `part`)
is called directly and its entry written here; any other (one using a fixture of pytest's) runs through
pytest's own protocol, and pytest-json-report writes its entry. Both entries have one shape: outcome and
metadata (submission, part, check, finding). Many submissions can be judged in one session (the
`evidence` fixture is parametrized over them), which is what makes batch grading fast.
"""
from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Collection
from functools import partial
from pathlib import Path

import pytest
from pytest_jsonreport.plugin import JSONReport

from grader.findings import Failed
from grader.judge.evidence import Evidence

CHECKS_DIR = Path(__file__).resolve().parent.parent / "checks"
# pytest's per-test services the checks do not use (they neither log, warn, print nor use tmp_path);
# each costs time on every one of the thousands of tests a batch runs.
UNUSED_PLUGINS = [arg for name in ("cacheprovider", "logging", "warnings", "faulthandler", "threadexception",
                                   "unraisableexception", "junitxml", "doctest", "pastebin", "stepwise",
                                   "setuponly", "setupplan", "tmpdir", "monkeypatch", "recwarn")
                  for arg in ("-p", f"no:{name}")]


# Marks that change nothing of how a check runs; one with any other (skip, xfail, usefixtures...) runs
# through pytest's own protocol, which honours them.
PLAIN_MARKS = {"op_cases", "parametrize"}


class EvidencePlugin:
    """Hands each check the evidence of every submission, and records what each check found."""

    def __init__(self, evidences: dict[str, Evidence], parts: Collection[str] | None = None):
        self.evidences = evidences
        self.names = {id(evidence): name for name, evidence in evidences.items()}
        self.parts = parts
        self.order: list[str] = []
        self.direct: dict[str, dict] = {}
        self.marks_above: dict = {}  # collector node -> names of the marks on it and above it

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

    def pytest_collection_modifyitems(self, config, items):
        """Only the checks of the parts asked for (all by default), in collection order."""
        if self.parts is not None:
            kept = [item for item in items if part_of(item) in self.parts]
            config.hook.pytest_deselected(items=[item for item in items if part_of(item) not in self.parts])
            items[:] = kept
        self.order = [item.nodeid for item in items]
        for item in items:
            item.repr_failure = partial(finding_repr, item.repr_failure)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        """A check taking only its parameters is a plain call: pytest's setup, teardown, three reports and
        their hooks cost several times the check itself, thousands of times in a batch."""
        params = parameters(item)
        if not set(item.fixturenames) <= set(params) or self.marks(item) - PLAIN_MARKS:
            return None
        outcome, raised = "passed", None
        try:
            item.obj(**{name: params[name] for name in item.fixturenames})
        # A Finding, or a bug of the check's own (its entry says which, as pytest's would).
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:  # noqa: BLE001
            outcome, raised = "skipped" if isinstance(exc, pytest.skip.Exception) else "failed", exc
        self.direct[item.nodeid] = {"nodeid": item.nodeid, "outcome": outcome, "metadata": self.metadata(item, raised)}
        return True

    def marks(self, item) -> set[str]:
        """The names of every mark on `item`: its own, and (once per module or class) those above it."""
        above = self.marks_above.get(item.parent)
        if above is None:
            above = self.marks_above[item.parent] = {m.name for node in item.parent.listchain()
                                                     for m in node.own_markers}
        return above | {m.name for m in item.own_markers}

    def pytest_json_runtest_metadata(self, item, call):
        """Each entry's metadata: from the call, or from the setup where a check never got to its call
        (skipped by its mark, or its fixture failed)."""
        if call.when == "teardown":
            return {}
        return self.metadata(item, call.excinfo.value if call.excinfo else None)

    def metadata(self, item, raised: BaseException | None) -> dict:
        # None for the placeholder pytest makes of a check with no evidence to run on (an empty session).
        submission = self.names.get(id(parameters(item).get("evidence")))
        return {"submission": submission, "part": part_of(item), "check": item.originalname,
                "doc": (item.function.__doc__ or "").strip().split("\n")[0],
                "finding": raised.finding if isinstance(raised, Failed) else None}

    def entries(self, reported: list[dict]) -> list[dict]:
        """Every check's entry, the direct ones and pytest-json-report's, in collection order."""
        by_id = {entry["nodeid"]: entry for entry in reported} | self.direct
        return [by_id[nodeid] for nodeid in self.order if nodeid in by_id]


def parameters(item) -> dict:
    """The values a check is called with (its evidence, and its part for an op check)."""
    return getattr(getattr(item, "callspec", None), "params", {})


def part_of(item) -> str | None:
    """The part a check grades: its `part` parameter (op checks), else its module's PART."""
    part = parameters(item).get("part")
    return part if isinstance(part, str) else getattr(item.module, "PART", None)


def finding_repr(default, excinfo, style=None):
    """A finding is its own message: skip pytest's traceback formatting, which for the thousands of
    expected failures of a batch costs more than the checks. Anything else (a bug in a check) keeps it."""
    if isinstance(excinfo.value, Failed):
        return str(excinfo.value)
    return default(excinfo) if style is None else default(excinfo, style)


def run_checks(evidences: dict[str, Evidence], checks_dir: Path = CHECKS_DIR,
               parts: Collection[str] | None = None) -> list[dict]:
    """Every check's raw result for every submission (of `parts` only, when given), as pytest-json-report's
    test entries."""
    report = JSONReport()
    plugin = EvidencePlugin(evidences, parts)
    # --assert=plain: the checks raise their findings themselves, so rewriting their asserts (redone on every
    # start where bytecode is not written) would buy nothing.
    args = [str(checks_dir), "-q", "-s", "--assert=plain", *UNUSED_PLUGINS, "-p", "pytest_jsonreport.plugin",
            "--rootdir", str(checks_dir), "-c", str(checks_dir / "pytest.ini"), "--json-report-file=none",
            "--json-report-omit", "log", "traceback", "streams", "keywords", "collectors", "warnings",
            "--tb=no", "--no-header", "-o", "console_output_style=classic"]
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
            code = pytest.main(args, plugins=[plugin, report])
    finally:
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
    if report.report is None or code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the checks could not run (pytest exit {int(code)}):\n{out.getvalue()[-2000:]}")
    return plugin.entries(report.report["tests"])
