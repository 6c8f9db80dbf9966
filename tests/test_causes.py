"""Bugs named by cause: the number tests of grader/judge/causes.py, every error kind keeping its own
diagnosis, the headline rule, and messages without float noise."""
from __future__ import annotations

import pytest

from grader.findings import Finding
from grader.judge import backward, causes, ops
from grader.judge.evidence import Case, Evidence
from grader.score import CheckResult, by_specificity, headline_first


def op_case(op, leaves, g, student_grads, want_grads, data, pre=None, check="value", operands=None, **student):
    probe = {"id": f"{op}/x", "kind": "op", "op": op, "part": op, "check": check, "leaves": leaves, "g": g,
             "pre": pre, "operands": operands or [{"leaf": i} for i in range(len(leaves))], "label": "case"}
    return Case(probe, {"grads": student_grads, **student}, {"grads": want_grads, "data": data})


def test_a_swapped_factor_out_data_for_out_grad_on_one_input():
    a, b, g = 1.5, -2.25, 1.7
    case = op_case("mul", [a, b], g, [b * a * b, a * g], [b * g, a * g], a * b)
    assert "out.data" in causes.swapped_factor(case)


def test_a_swapped_factor_own_value_for_the_other():
    a, b, g = 1.5, -2.25, 1.7
    case = op_case("mul", [a, b], g, [a * g, b * g], [b * g, a * g], a * b)
    sibling = op_case("mul", [0.4, 3.0], -0.6, [0.4 * -0.6, 3.0 * -0.6], [3.0 * -0.6, 0.4 * -0.6], 1.2)
    assert "*other*" in causes.swapped_factor(case, [case, sibling])
    unexplained = op_case("mul", [0.4, 3.0], -0.6, [1.0, 2.0], [3.0 * -0.6, 0.4 * -0.6], 1.2)
    assert causes.swapped_factor(case, [case, unexplained]) is None  # must explain every plain case


def test_a_right_gradient_is_no_swapped_factor():
    case = op_case("mul", [1.5, -2.25], 1.7, [-2.25 * 1.7, 1.5 * 1.7], [-2.25 * 1.7, 1.5 * 1.7], -3.375)
    assert causes.swapped_factor(case) is None


def test_gradient_into_out_or_into_the_other_input_is_the_wrong_node():
    into_out = op_case("pow", [1.6], 1.3, [0.3], [0.3 + 1.3 * 3.2], 2.56, pre=[0.3], out_grad=1.3 + 0.96)
    assert "out.grad" in causes.wrong_node(into_out)
    nothing = op_case("pow", [1.6], 1.3, [0.3], [0.3 + 1.3 * 3.2], 2.56, pre=[0.3], out_grad=1.3)
    assert causes.wrong_node(nothing) is None  # inputs unchanged, out.grad too: no gradient, not a wrong node
    a, b, g = 1.5, -2.25, 1.7
    both_into_a = op_case("mul", [a, b], g, [(b + a) * g, 0.0], [b * g, a * g], a * b, out_grad=g)
    assert "a.grad received" in causes.wrong_node(both_into_a)


ERROR_KINDS = {"not_started": "not_started", "missing": "missing", "crash": "crash", "timeout": "timeout",
               "no_answer": "timeout", "not_a_number": "not_a_number"}


@pytest.mark.parametrize("kind", sorted(ERROR_KINDS))
def test_every_error_kind_keeps_its_diagnosis(kind):
    error = {"error": {"kind": kind, "type": "E", "message": "m", "where": None}}
    probe = {"id": "zero_grad/x", "kind": "zero_grad", "label": "zero_grad()", "params": []}
    ev = Evidence([], {}, {})
    assert backward.error_finding(ev, Case(probe, error, {})).diagnosis == ERROR_KINDS[kind]
    op = {"id": "add/x", "kind": "op", "op": "add", "part": "add", "check": "value", "label": "a + b",
          "leaves": [1.0, 2.0], "operands": [{"leaf": 0}, {"leaf": 1}], "g": 1.5, "pre": None}
    assert ops.error_finding(ev, Case(op, {**error, "has_method": True, "stage": "forward"}, {}), "add").diagnosis \
        == ERROR_KINDS[kind]


def result(diagnosis, line=None, check="c"):
    where = ("engine.py", line) if line is not None else None
    return CheckResult("n", "p", check, "failed", 0.0, 1.0, Finding(diagnosis, "m", where=where))


def test_the_headline_is_the_specific_diagnosis_however_many_generic_ones_fail():
    failed = [result("wrong_losses", 3, "a"), result("zero_grad_after_backward", 5, "b"), result("wrong_losses", 3, "c")]
    assert headline_first(failed)[0].diagnosis == "zero_grad_after_backward"
    assert [r.check for r in headline_first(failed)] == ["b", "a", "c"]
    cause = [result("wrong_derivative", 4), result("wrong_derivative", 4), result("wrong_forward", 2)]
    assert by_specificity(cause)[0].diagnosis == "wrong_forward"
    assert by_specificity([result("resets_data", 1), result("misses_parameters", 1)])[0].diagnosis == "resets_data"
    assert by_specificity([result("crash"), result("crash", 9)])[0].line == 9  # among equals, the one with a line
    assert headline_first([result("wrong_forward"), result("not_started")])[0].diagnosis == "not_started"


@pytest.mark.parametrize(("number", "text"), [(-0.6000000000000001, "-0.6"), (3.3333333333333335, "3.333333333"),
                                              (2.0, "2"), (1e-12, "1e-12"), ([0.1 + 0.2], "[0.3]")])
def test_numbers_in_messages_carry_no_float_noise(number, text):
    assert ops.fmt(number) == text
