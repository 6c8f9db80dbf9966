"""Every named bug the grader can report: a stable code, the plain-words diagnosis, and a hint that
teaches without handing out code. Course staff script against the codes; students read the rest.

The catalogue is the one enumeration of diagnoses, in the order a part's headline is chosen by: when a part
fails several checks, the first of their diagnoses here heads it. A cause comes before the failures it
causes (a wrong forward value before the wrong derivatives computed from it), and a named bug before a
generic one (zero_grad after backward before "wrong losses"). An `error` diagnosis means nothing could be
compared (the code raised, hung or is not there); the child's error kinds map onto the catalogue in
`ERROR_KINDS`. A `partial` diagnosis costs only the checks that show it (a reflected form, a plain number,
the type of what train() returns); every other bug makes each training run through its part wrong, so
it costs the whole part, however few checks happen to show it.
"""
from __future__ import annotations

from dataclasses import dataclass

from grader import protocol


@dataclass(frozen=True)
class Diagnosis:
    code: str
    title: str
    hint: str
    error: bool = False  # nothing could be compared: a check with this diagnosis is an error, not a failure
    partial: bool = False  # costs the checks that show it, not the whole part


CATALOGUE = {d.code: d for d in [
    Diagnosis("not_started", "not started: the stub still raises NotImplementedError",
              "Replace the `raise NotImplementedError(...)` of this task with your code.", error=True, partial=True),
    Diagnosis("missing", "not implemented: the method or name is missing",
              "Check the name and spelling against the lecture (`__add__`, `__mul__`, `__pow__`, `exp`, `tanh`, "
              "`relu`, `backward`, `zero_grad`, `train`).", error=True, partial=True),
    Diagnosis("returns_none", "does not return a Value", "Every operation must end with `return out`."),
    Diagnosis("backward_not_callable", "`_backward` is not a function",
              "Assign the function itself, `out._backward = _backward`, without calling it.", error=True, partial=True),
    Diagnosis("train_wrong_return", "train() does not return a list of float losses",
              "Append each step's `loss.data` (a float, not the Value `loss`) to a list and end train() with "
              "`return losses`.", error=True, partial=True),
    Diagnosis("wrong_forward", "the forward value is wrong", "Compare `out.data` with the math by hand for one input."),
    Diagnosis("swapped_operands", "the reflected operator swaps its operands",
              "With a plain number on the left, `2 / a` calls `a.__rtruediv__(2)`: `self` is the right operand, so "
              "it must compute other / self (and `__rsub__` other - self), not self / other.", partial=True),
    Diagnosis("no_plain_number", "a plain number operand is not handled",
              "Wrap a plain int/float in a Value before using it, and make sure the reflected operator "
              "(`__radd__`, `__rmul__`, `__rsub__`, `__rtruediv__`) exists for a number on the left.", partial=True),
    Diagnosis("not_connected", "the output is not connected to its inputs",
              "Pass the inputs as `_children` when you build `out`, or `backward()` never reaches them."),
    Diagnosis("not_a_number", "produces something that is not a real number",
              "`.data` and `.grad` must hold plain floats (not strings, complex numbers or Values).", error=True, partial=True),
    Diagnosis("timeout", "did not finish in time", "Look for a loop that never ends or work that grows with every call.", error=True, partial=True),
    Diagnosis("resets_data", "zero_grad changes the parameters' values",
              "Only `.grad` is reset; `.data` holds what the network has learned."),
    Diagnosis("misses_parameters", "some parameters keep their gradient",
              "Loop over every parameter returned by `self.parameters()`."),
    Diagnosis("not_seeded", "the output's gradient is not seeded with 1",
              "Before walking the graph, set the gradient of the node you call backward() on to 1."),
    Diagnosis("visited_twice", "a node's `_backward` runs more than once",
              "Keep a set of visited nodes while building the topological order, so a shared node appears once."),
    Diagnosis("not_reversed", "nodes are visited in the wrong order",
              "A node may pass its gradient on only after every node that uses it has passed theirs: walk the "
              "topological order in reverse."),
    Diagnosis("no_zero_grad", "gradients are never reset in the loop",
              "`.grad` accumulates across steps unless you reset it before each backward pass."),
    Diagnosis("zero_grad_after_backward", "gradients are reset between backward() and the update",
              "Reset the gradients before `loss.backward()`, not after it: the update needs them."),
    Diagnosis("wrong_sign_update", "the update climbs the loss instead of descending it",
              "Gradient descent moves each parameter against its gradient."),
    Diagnosis("lr_ignored", "the learning rate argument is ignored", "Use the `lr` passed to `train` in the update.", partial=True),
    Diagnosis("loss_not_sum_of_squares", "the loss is not the sum of squared errors",
              "The loss is the sum over examples of (prediction - target) squared."),
    Diagnosis("wrong_node", "the gradient is added to the wrong node",
              "Each input receives its own share: `self.grad += …` and `other.grad += …`. `out.grad` is read in "
              "the closure, never written, and one input's share never goes into the other's `.grad`."),
    Diagnosis("swapped_factor", "a factor of the chain rule is taken from the wrong quantity",
              "Name each factor before writing it: the local derivative (from `self.data`, `other.data` or "
              "`out.data`) times the gradient from above, `out.grad`. One of yours reads the wrong one."),
    Diagnosis("overwrite", "you overwrite `.grad` instead of accumulating",
              "A value used twice receives gradient from both uses: add into `.grad` with `+=`."),
    Diagnosis("chain_rule_dropped", "the chain rule is dropped: the `out.grad` factor is missing",
              "The local derivative must be multiplied by the gradient flowing in from above, `out.grad`."),
    Diagnosis("no_gradient", "no gradient reaches the inputs",
              "The `_backward` closure must add to the *inputs'* `.grad`, not to `out.grad` or a local variable."),
    Diagnosis("wrong_derivative", "the local derivative is wrong",
              "Derive the local derivative on paper and check it against a finite difference."),
    Diagnosis("built_on_broken", "fails because an operation it is built on is broken",
              "Fix the operation named here first; this one is given code built on it.", partial=True),
    Diagnosis("crash", "raises an exception", "Run the smallest failing case yourself and read the traceback.", error=True, partial=True),
    Diagnosis("wrong_gradient", "the gradients are wrong", "Check the topological sort on a small diamond-shaped graph."),
    Diagnosis("wrong_losses", "the losses differ from the reference loop",
              "Record `loss.data` once per step, before that step's update, and return the list."),
]}


PRIORITY: tuple[str, ...] = tuple(CATALOGUE)
ERROR_DIAGNOSES = frozenset(code for code, d in CATALOGUE.items() if d.error)
# The diagnosis of each error kind the child reports (grader/protocol.py): every kind keeps its own name.
ERROR_KINDS = {protocol.NOT_STARTED: "not_started", protocol.MISSING: "missing", protocol.CRASH: "crash",
               protocol.NOT_A_NUMBER: "not_a_number", protocol.TIMEOUT: "timeout", protocol.NO_ANSWER: "timeout",
               protocol.NOT_A_VALUE: "returns_none"}


def describe(code: str) -> Diagnosis:
    return CATALOGUE.get(code, CATALOGUE["crash"])
