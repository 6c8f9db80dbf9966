"""The grader's own correctness: a check with a bug of ours costs that check only, in a complete report;
an assignment naming a part no check grades is refused when it is loaded; discovery says when two names
fit; a composite op is blamed on another op only when it really runs it broken."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import corpus_tools
import pytest

import grader.assignment
from grader.assignment import AssignmentError, check_names, load_assignment
from grader.judge.session import run_checks
from grader.pipeline import grade_one, probe_submission
from grader.probes import shape
from grader.score import score


def test_a_check_that_raises_a_bug_of_ours_is_that_checks_error_in_a_complete_report(tmp_path):
    checks = tmp_path / "checks"
    shutil.copytree(grader.assignment.CHECKS_DIR, checks, ignore=shutil.ignore_patterns("__pycache__"))
    (checks / "test_broken.py").write_text(textwrap.dedent('''
        PART = "add"

        def test_a_check_with_a_bug(evidence):
            """A check whose own code fails."""
            raise KeyError("a bug in the check, not in the submission")
    '''))
    probed = probe_submission(corpus_tools.REPO_DIR / "reference", name="ref")
    raw = run_checks({"ref": probed.evidence}, checks)
    result = score("ref", raw, load_assignment())
    broken = [t for t in result.tests if t.check == "test_a_check_with_a_bug"]
    assert len(broken) == 1 and broken[0].status == "error" and "could not run this check" in broken[0].message
    assert all(t.status == "passed" for t in result.tests if t is not broken[0])
    assert {p.id for p in result.parts} == {p.id for p in load_assignment().parts}


def test_checks_with_marks_or_fixtures_of_pytests_run_as_pytest_runs_them_in_collection_order(tmp_path):
    checks = tmp_path / "extra_checks"  # a package name of its own: another test imports a copy named checks
    shutil.copytree(grader.assignment.CHECKS_DIR, checks, ignore=shutil.ignore_patterns("__pycache__"))
    (checks / "test_extra.py").write_text(textwrap.dedent('''
        import pytest

        PART = "add"
        CALLED = []

        @pytest.mark.skip(reason="not this term")
        def test_skipped(evidence):
            """A check skipped by its mark."""
            CALLED.append("skipped")

        def test_with_a_fixture(evidence, request):
            """A check using one of pytest's fixtures."""
            assert request.node.name.startswith("test_with_a_fixture")

        def test_with_a_failing_fixture_check(evidence, request):
            """A check using a fixture, with a bug of its own."""
            raise KeyError("a bug")

        def test_after(evidence):
            """A check called directly, collected after the others."""
            if CALLED:
                raise AssertionError("the skipped check ran")
    '''))
    probed = probe_submission(corpus_tools.REPO_DIR / "reference", name="ref")
    raw = run_checks({"ref": probed.evidence}, checks)
    extra = {entry["metadata"]["check"]: entry["outcome"] for entry in raw if "test_extra" in entry["nodeid"]}
    assert extra == {"test_skipped": "skipped", "test_with_a_fixture": "passed",
                     "test_with_a_failing_fixture_check": "failed", "test_after": "passed"}
    ids = [entry["nodeid"] for entry in raw if "test_extra" in entry["nodeid"]]
    assert [i.split("::")[1].split("[")[0] for i in ids] == ["test_skipped", "test_with_a_fixture",
                                                            "test_with_a_failing_fixture_check", "test_after"]
    result = score("ref", raw, load_assignment())
    failing = [t for t in result.tests if t.check == "test_with_a_failing_fixture_check"]
    assert failing[0].status == "error" and "could not run this check" in failing[0].message
    assert not [t for t in result.tests if t.check == "test_skipped"]  # a skipped check does not count


def test_a_session_with_no_submission_runs_and_grades_nothing():
    entries = run_checks({})
    assert entries and all(e["outcome"] == "skipped" and e["metadata"]["submission"] is None for e in entries)
    assert score("nobody", entries, load_assignment()).tests == []


def test_an_assignment_with_a_part_no_check_grades_is_refused(tmp_path, monkeypatch):
    checks = tmp_path / "checks"
    shutil.copytree(grader.assignment.CHECKS_DIR, checks, ignore=shutil.ignore_patterns("__pycache__"))
    (checks / "test_train.py").unlink()
    monkeypatch.setattr(grader.assignment, "CHECKS_DIR", checks)
    check_names.cache_clear()
    with pytest.raises(AssignmentError, match=r"parts \['train'\] have no checks"):
        load_assignment("micrograd")
    check_names.cache_clear()


def test_an_unknown_or_repeated_part_is_refused(tmp_path):
    path = tmp_path / "assignment.toml"
    path.write_text('[[parts]]\nid = "softmax"\npoints = 5\n')
    with pytest.raises(AssignmentError, match="unknown part ids"):
        load_assignment(path)
    path.write_text('[[parts]]\nid = "add"\n[[parts]]\nid = "add"\n')
    with pytest.raises(AssignmentError, match="more than once"):
        load_assignment(path)


class TwoNames:
    """An engine that keeps its inputs under two names, both of which fit."""

    def __init__(self, data, children=()):
        self.data, self.grad = data, 0.0
        self.inputs, self.sources = tuple(children), tuple(children)
        self._backward = lambda: None

    def __add__(self, other):
        out = TwoNames(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def backward(self):
        self.grad = 1.0
        self._backward()


def test_discovery_says_when_two_names_fit():
    engine, ambiguous = shape.discover([TwoNames], {})
    assert engine.children in ("inputs", "sources")
    assert ambiguous and "children" in ambiguous[0] and "`inputs`" in ambiguous[0] and "`sources`" in ambiguous[0]


def test_discovery_under_strict_names_says_what_was_found_instead():
    with pytest.raises(shape.ShapeError, match=r"no `_prev`.*`inputs`"):
        shape.discover([TwoNames], {}, strict=True)


def build(tmp_path: Path, name: str) -> Path:
    mutant = next(m for m in corpus_tools.load_mutants() if m["name"] == name)
    return corpus_tools.build_mutant(mutant, tmp_path / name)


def test_given_code_that_does_not_run_the_broken_form_is_not_blamed(tmp_path):
    # Without __rmul__, `3.0 * a` fails; neg is `self * -1` and sub `self + (-other)`: neither runs
    # __rmul__, so neither is blamed on mul.
    result = grade_one(build(tmp_path, "rmul_deleted"))
    parts = {p.id: p for p in result.parts}
    assert parts["mul"].status == "failed"
    assert parts["neg"].status == "passed" and parts["sub"].status == "passed"
    # `2 / a` is `other * self**-1`, which needs the missing __rmul__: div's own plain-number case fails,
    # and says so in its own words (no op it ran is broken).
    assert parts["div"].diagnosis == "no_plain_number", parts["div"].message


def test_an_own_subtraction_is_judged_on_its_own(tmp_path):
    # An engine whose __sub__ has a closure of its own (never calling neg or add) with neg broken.
    shape_entry = next(s for s in corpus_tools.load_shapes() if s["name"] == "children_named_children_list")
    source = (corpus_tools.CORPUS_DIR / shape_entry["submission"]).read_text()
    assert "def __sub__" in source and "def __neg__" in source
    engine = tmp_path / "own_sub.py"
    engine.write_text(source.replace("def __neg__(self):", "def __neg__(self):\n        return self * 1\n"
                                     "\n    def _unused_neg(self):", 1))
    result = grade_one(engine)
    parts = {p.id: p for p in result.parts}
    assert parts["neg"].status == "failed" and parts["neg"].diagnosis != "built_on_broken"
    assert parts["sub"].status == "passed", parts["sub"].message

