"""Answers from the child are untrusted: an answer that leaves numbers out counts as no answer, so no
check can pass for want of evidence."""
from __future__ import annotations

import copy

import pytest

from grader.assignment import load_assignment
from grader.protocol import INCOMPLETE, well_formed
from grader.reference import public_plan
from grader.reference import reference_results as answers_to

PUBLIC = public_plan(load_assignment())
PLAN = {p["id"]: p for p in PUBLIC.probes}
ONE_OF_EACH_KIND = sorted({p["kind"]: p["id"] for p in PUBLIC.probes}.values())


def reference_results():
    return answers_to(PUBLIC)


@pytest.mark.parametrize("probe_id", ONE_OF_EACH_KIND)
def test_the_reference_answers_are_complete(probe_id):
    answer = reference_results()[probe_id]
    assert well_formed(PLAN[probe_id], answer) is answer


@pytest.mark.parametrize("probe_id", ONE_OF_EACH_KIND)
def test_an_answer_missing_any_number_is_no_answer(probe_id):
    answer = reference_results()[probe_id]
    numbers = [k for k, v in answer.items()
               if isinstance(v, int | float | list) and not isinstance(v, bool) and not k.endswith("where")]
    assert numbers
    for key in numbers:
        forged = {k: v for k, v in answer.items() if k != key}
        assert well_formed(PLAN[probe_id], forged) == INCOMPLETE, key


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "1.0", True, None, [1.0]])
def test_a_number_that_is_not_a_finite_real_is_no_answer(bad):
    probe = PLAN[ONE_OF_EACH_KIND[0]]
    answer = copy.deepcopy(reference_results()[probe["id"]])
    number_key = next(k for k, v in answer.items() if isinstance(v, list) and v and isinstance(v[0], float))
    answer[number_key][0] = bad
    assert well_formed(probe, answer) == INCOMPLETE


def test_error_reports_are_kept_and_garbage_is_no_answer():
    probe = next(iter(PLAN.values()))
    error = {"error": {"kind": "crash", "type": "ValueError", "message": "boom", "where": None}}
    assert well_formed(probe, error) is error
    for garbage in (None, [], "done", {"error": "crash"}, {"passed": True}):
        assert well_formed(probe, garbage) == INCOMPLETE
