"""What a complete answer to a probe looks like, so that no check passes for want of evidence.

The child's answers are untrusted: student code shares its process and can rewrite or forge them. The
judge compares every number with values it computed itself, so forged numbers must be right numbers. What
remains is the answer that leaves numbers out; a check that finds nothing to compare must not pass. So an
answer is either an error report or complete, with every number each check reads; anything else counts as
no answer at all (the probe "did not finish").
"""
from __future__ import annotations

import math

INCOMPLETE = {"error": {"kind": "no_answer", "type": "IncompleteAnswer", "message": "the answer was incomplete",
                        "where": None}}


def number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def numbers(xs, length: int | None = None) -> bool:
    return isinstance(xs, list) and (length is None or len(xs) == length) and all(map(number, xs))


def pairs(xs, length: int) -> bool:
    return isinstance(xs, list) and len(xs) == length and all(numbers(pair, 2) for pair in xs)


def flags(xs, length: int) -> bool:
    return isinstance(xs, list) and len(xs) == length and all(isinstance(x, bool) for x in xs)


def complete_op(probe: dict, answer: dict) -> bool:
    if answer.get("is_value") is False:  # returned something that is not a Value: a complete (wrong) answer
        return isinstance(answer.get("returned"), str)
    n = len(probe["leaves"])
    return (number(answer.get("data")) and numbers(answer.get("grads"), n) and pairs(answer.get("fd"), n)
            and flags(answer.get("linked"), n))


def complete_graph(probe: dict, answer: dict) -> bool:
    n, data = len(probe["leaves"]), answer.get("data")
    return (numbers(data) and numbers(answer.get("leaf_grads"), n)
            and numbers(answer.get("node_grads"), len(data)) and pairs(answer.get("fd"), n))


def complete_backward(probe: dict, answer: dict) -> bool:
    calls = answer.get("calls")
    return (numbers(answer.get("grads")) and number(answer.get("out_grad")) and isinstance(calls, list)
            and all(isinstance(c, int) and not isinstance(c, bool) for c in calls))


def complete_zero_grad(probe: dict, answer: dict) -> bool:
    n = len(probe["params"])
    return numbers(answer.get("grads"), n) and numbers(answer.get("data"), n)


def complete_train(probe: dict, answer: dict) -> bool:
    events = answer.get("events")
    return (numbers(answer.get("losses")) and numbers(answer.get("weights"), len(probe["weights"]))
            and isinstance(events, list) and all(isinstance(e, str) for e in events))


COMPLETE = {"op": complete_op, "graph": complete_graph, "backward": complete_backward,
            "zero_grad": complete_zero_grad, "train": complete_train}


def known_node(probe: dict, answer: dict) -> bool:
    """A graph answer that names the node it failed at names one of the probe's nodes."""
    if "node" not in answer:
        return True
    node = answer["node"]
    return (isinstance(node, int) and not isinstance(node, bool)
            and 0 <= node < len(probe.get("nodes", ())))


def well_formed(probe: dict, answer) -> dict:
    """`answer` if it is an error report or a complete answer to `probe`; otherwise no answer."""
    if not isinstance(answer, dict):
        return INCOMPLETE
    error = answer.get("error")
    if error is not None:
        readable = isinstance(error, dict) and isinstance(error.get("kind", ""), str)
        return answer if readable and known_node(probe, answer) else INCOMPLETE
    return answer if COMPLETE[probe["kind"]](probe, answer) else INCOMPLETE
