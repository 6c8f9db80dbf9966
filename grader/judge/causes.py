"""Bugs named from the numbers alone: a factor of the chain rule taken from the wrong quantity, a gradient
added into the wrong node. (A reflected op with its operands swapped is seen by the child itself, which
evaluates the unreflected form beside it.)

Each test recomputes what the student's code would give with that one mistake and compares; a test
that needs a quantity the probe does not pin down (a zero derivative, out.data equal to out.grad)
declines rather than guess.
"""
from __future__ import annotations

import math

from grader.judge.tolerance import NUMERICAL, close
from grader.protocol import number

LEAF_NAMES = "ab"
OPERANDS = ("self", "other")  # how an op's code names its inputs


def _local(probe: dict, grads: list) -> list[float]:
    pre = probe.get("pre") or [0.0] * len(grads)
    return [(s - p) / probe["g"] for s, p in zip(grads, pre)]


def _substitutions(probe: dict, true_local: list, out) -> list[tuple[str, list]]:
    """The local derivatives a closure gives with one quantity in place of another, and what it did."""
    xs, op = probe["leaves"], probe["op"]
    found = []
    if number(out) and not close(out, probe["g"], **NUMERICAL):  # else the two are one number here
        found.append(("You multiplied by `out.data` where `out.grad` belongs (the gradient flowing in from above).",
                      [t * out / probe["g"] for t in true_local]))
    if op == "mul" and len(xs) == 2 and not close(xs[0], xs[1], rtol=0.05, atol=0.0):
        found.append((("Each input's local derivative is the *other* input's value: `self.grad` takes `other.data` "
                      "and `other.grad` takes `self.data`; yours used an input's own."), [xs[0], xs[1]]))
    if op == "exp" and len(xs) == 1:
        found.append(("You used the input `self.data` where e^x, `out.data`, belongs.", [xs[0]]))
    if op == "tanh" and len(xs) == 1:
        found.append((("You used the input x (`self.data`) where the output t = tanh(x) belongs: 1 − x² instead "
                      "of 1 − t²."), [1 - xs[0] ** 2]))
    return found


def swapped_factor(case, siblings=()) -> str | None:
    """A closure that uses one available quantity (`out.data`, `self.data`, `other.data`) in place of
    another; on a plain case it must explain every plain case of the op, so a coincidence is not named."""
    def matching(c) -> set[str]:
        got, want = c.student.get("grads"), c.reference.get("grads")
        if not (isinstance(got, list) and isinstance(want, list) and len(got) == len(want)) or c.probe["op"] == "pow":
            return set()
        true_local = _local(c.probe, want)
        if any(close(t, 0.0, rtol=0.0, atol=1e-9) for t in true_local):
            return set()
        local = _local(c.probe, got)
        # Each input's line may hold the mistake or not; at least one must, and every other must be right.
        return {text for text, formula in _substitutions(c.probe, true_local, c.reference.get("data"))
                if all(close(s, f, **NUMERICAL) or close(s, t, **NUMERICAL)
                       for s, f, t in zip(local, formula, true_local))
                and any(close(s, f, **NUMERICAL) and not close(f, t, **NUMERICAL)
                        for s, f, t in zip(local, formula, true_local))}
    if case.probe.get("check") == "number":
        return None
    texts = matching(case)
    if case.probe.get("check") == "value":
        for sibling in siblings:
            texts &= matching(sibling)
    return min(texts) if texts else None


def grad_for_data(case, accumulating=()) -> str | None:
    """A factor read from an input's `.grad` where its `.data` belongs (`self.grad += other.grad * out.grad`).
    On fresh inputs that factor is 0 and looks like no gradient at all, so it is named only when the cases
    whose inputs already held gradients show it too, each of them."""
    def reads(c) -> set[str]:
        got, want = c.student.get("grads"), c.reference.get("grads")
        if not (isinstance(got, list) and isinstance(want, list) and len(got) == len(want) <= len(OPERANDS)):
            return set()
        xs, pre = c.probe["leaves"], c.probe.get("pre") or [0.0] * len(got)
        if len(xs) != len(got):
            return set()
        found = set()
        for i, (s, t) in enumerate(zip(_local(c.probe, got), _local(c.probe, want))):
            if close(s, t, **NUMERICAL):
                continue
            # The factor that belongs is input j's value; the one used, j's gradient before or after its update.
            j = next((j for j, x in enumerate(xs) if close(t, x, **NUMERICAL) and not close(pre[j], x, **NUMERICAL)
                      and (close(s, pre[j], **NUMERICAL) or close(s, got[j], **NUMERICAL))), None)
            if j is None:
                return set()
            found.add(f"The local derivative of {LEAF_NAMES[i]} reads `{OPERANDS[j]}.grad` where "
                      f"`{OPERANDS[j]}.data` belongs.")
        return found
    held = [c for c in accumulating if c.probe.get("pre")]
    if not held:
        return None
    texts = reads(case)
    for other in held:
        texts &= reads(other)
    return min(texts) if texts else None


def wrong_node(case) -> str | None:
    """Gradient added somewhere other than the inputs: into the output's own `.grad` (the inputs keep
    theirs, out.grad changed), or one input's share added into the other input."""
    probe, s = case.probe, case.student
    got, want = s.get("grads"), case.reference.get("grads")
    if not (isinstance(got, list) and isinstance(want, list) and len(got) == len(want)):
        return None
    pre = probe.get("pre") or [0.0] * len(got)
    unchanged = [close(g, p, **NUMERICAL) for g, p in zip(got, pre)]
    out_grad = s.get("out_grad")
    if any(unchanged) and number(out_grad) and not close(out_grad, probe["g"], **NUMERICAL):
        which = "The inputs' gradients" if all(unchanged) else f"{LEAF_NAMES[unchanged.index(True)]}.grad"
        return (f"{which} did not change, but out.grad went from {probe['g']:g} to {float(out_grad):.10g}: "
                "the closure adds into `out.grad` instead of the inputs' `.grad`.")
    if all(unchanged):
        return None
    if len(got) == 2 and any(unchanged):
        k, j = (1, 0) if unchanged[0] else (0, 1)
        total = sum(w - p for w, p in zip(want, pre))
        if not math.isclose(total, 0.0, abs_tol=1e-9) and close(got[k] - pre[k], total, **NUMERICAL):
            return (f"{LEAF_NAMES[k]}.grad received the gradient of both inputs and {LEAF_NAMES[j]}.grad none: "
                    f"one line adds into the wrong node's `.grad`.")
    return None
