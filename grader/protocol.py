"""The sandbox boundary, declared once: what the child sends, what an answer to each probe kind holds, and
what makes an answer complete. Standard library only: the sandboxed child imports this file too.

The child writes one JSON line per event to its results pipe:
  {"load": {"found": [...], "problems": [...], "shape": {...}, "ambiguous": [...]}}   once, after import
  {"start": i}                                            before probe i (a hang is known by number)
  {"i": i, "result": {...}}                               probe i's answer, or {"error": ERROR}
  {"done": true}                                          everything answered
ERROR is {"kind": one of ERROR_KINDS, "type": exception type, "message": text, "where": [file, line] | None}.

Everything the child sends is untrusted: student code shares its process and can rewrite or forge it. The
judge compares every number with values it computed itself, so forged numbers must be right numbers. What
remains is the answer that leaves numbers out; a check that finds nothing to compare must not pass. So an
answer is either an error report or complete, with every number each check reads; anything else counts as
no answer at all (the probe "did not finish").
"""
from __future__ import annotations

import math

MAX_TEXT = 300  # characters of any message the child sends

# Why a probe has no numbers. The child reports the first four; the parent adds the last three.
NOT_STARTED = "not_started"    # the stub still raises NotImplementedError
CRASH = "crash"                # student code raised
NOT_A_NUMBER = "not_a_number"  # a value is not a finite real number
MISSING = "missing"            # a name or method the probe needs is not there
TIMEOUT = "timeout"            # the probe overran its time
NO_ANSWER = "no_answer"        # the child died or sent nothing usable
NOT_A_VALUE = "not_a_value"    # an op returned something that is not one of the engine's nodes
ERROR_KINDS = (NOT_STARTED, CRASH, NOT_A_NUMBER, MISSING, TIMEOUT, NO_ANSWER, NOT_A_VALUE)


def error(kind: str, type_name: str, message: str = "", where: list | None = None) -> dict:
    return {"error": {"kind": kind, "type": type_name, "message": message[:MAX_TEXT], "where": where}}


INCOMPLETE = error(NO_ANSWER, "IncompleteAnswer", "the answer was incomplete")


def number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def numbers(xs, length: int | None = None) -> bool:
    return isinstance(xs, list) and (length is None or len(xs) == length) and all(map(number, xs))


def pairs(xs, length: int) -> bool:
    return isinstance(xs, list) and len(xs) == length and all(numbers(pair, 2) for pair in xs)


def flags(xs, length: int) -> bool:
    return isinstance(xs, list) and len(xs) == length and all(isinstance(x, bool) for x in xs)


def indices(xs, below: int) -> bool:
    return isinstance(xs, list) and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < below
                                        for i in xs)


def texts(xs) -> bool:
    return isinstance(xs, list) and all(isinstance(x, str) for x in xs)


def complete_op(probe: dict, answer: dict) -> bool:
    if answer.get("is_value") is False:  # returned something that is not a node: a complete (wrong) answer
        return isinstance(answer.get("returned"), str)
    n = len(probe["leaves"])
    return (number(answer.get("data")) and numbers(answer.get("grads"), n) and pairs(answer.get("fd"), n)
            and flags(answer.get("linked"), n) and texts(answer.get("calls")) and number(answer.get("out_grad")))


def complete_graph(probe: dict, answer: dict) -> bool:
    n, data = len(probe["leaves"]), answer.get("data")
    return (numbers(data, len(probe["nodes"])) and numbers(answer.get("leaf_grads"), n)
            and numbers(answer.get("node_grads"), len(data)) and pairs(answer.get("fd"), n))


def complete_backward(probe: dict, answer: dict) -> bool:
    return (numbers(answer.get("grads")) and number(answer.get("out_grad"))
            and indices(answer.get("calls"), len(probe["nodes"])))


def complete_zero_grad(probe: dict, answer: dict) -> bool:
    n = len(probe["params"])
    return numbers(answer.get("grads"), n) and numbers(answer.get("data"), n)


def complete_zero_grad_nn(probe: dict, answer: dict) -> bool:
    models = answer.get("models")
    return isinstance(models, list) and len(models) == 3 and all(
        isinstance(m, dict) and isinstance(m.get("name"), str) and numbers(m.get("grads"))
        and flags(m.get("data_kept"), len(m.get("grads") or [])) and len(m["grads"]) > 0 for m in models)


def complete_train(probe: dict, answer: dict) -> bool:
    return (numbers(answer.get("losses")) and numbers(answer.get("weights"), len(probe["weights"]))
            and texts(answer.get("events")))


COMPLETE = {"op": complete_op, "graph": complete_graph, "backward": complete_backward,
            "zero_grad": complete_zero_grad, "zero_grad_nn": complete_zero_grad_nn, "train": complete_train}


def well_formed(probe: dict, answer) -> dict:
    """`answer` if it is an error report or a complete answer to `probe`; otherwise no answer."""
    if not isinstance(answer, dict):
        return INCOMPLETE
    err = answer.get("error")
    if err is not None:
        ok = (isinstance(err, dict) and err.get("kind") in ERROR_KINDS and isinstance(err.get("type", ""), str)
              and isinstance(err.get("message", ""), str))
        if ok and "node" in answer and not indices([answer["node"]], len(probe.get("nodes", ()))):
            answer = {**answer, "node": 0}  # where a graph's forward failed: a forged index points nowhere
        return answer if ok else INCOMPLETE
    return answer if COMPLETE[probe["kind"]](probe, answer) else INCOMPLETE
