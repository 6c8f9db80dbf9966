"""Every part a course can grade, declared once.

An op is one `Op`: how Python reaches it (an operator or a method, and the reflected dunder for a plain
number on the left), the safe domain its test points are drawn from, the upstream gradient its probes use,
the derivative and the misconceptions a student is told about, and the concept text of the instructions.
Its forward value and its local derivative are never written here: they come from the reference engine,
which answers every probe. The probe plan, the checks' parametrization, the diagnoses' wording, the
self-test and the instructions are derived from these declarations and the assignment file, so adding an
op to a course is its method in reference/ between solution markers, one `Op` below, and its part in the
assignment's TOML.

The other parts (backward, zero_grad, train) are declared as `Part`s: their checks live in
grader/checks/test_<id>.py.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# A misconception: (x, k, out) -> [(what the student is told, the local derivative that formula gives)],
# where x is the list of input values, k the plain-number operand (pow's exponent) or None, and out the
# reference's forward value. A factor taken from the wrong quantity (the input where the output belongs,
# out.data for out.grad, an input's own value for the other's) is named for every op by
# grader/judge/causes.py and is not repeated here.
Misconceptions = Callable[[list, object, float], list[tuple[str, list[float]]]]


def no_misconceptions(xs: list, k: object, out: float) -> list[tuple[str, list[float]]]:
    return []


@dataclass(frozen=True)
class Domain:
    """Where an op's test points may lie: |x| in [low, high], clear of each value of `avoid` by `margin`
    (the coincidences where a wrong formula agrees with the right one), and positive where `positive`.
    Secret inputs keep the sign of the public point they replace, so a piecewise op (relu) is still probed
    on both sides of its kink."""
    low: float
    high: float
    avoid: tuple[float, ...] = ()
    margin: float = 0.1
    positive: bool = False

    def contains(self, x: float) -> bool:
        if not self.low <= abs(x) <= self.high:
            return False
        if self.positive and x <= 0:
            return False
        return all(abs(x - a) >= self.margin for a in self.avoid)

    def draw(self, rng, like: float) -> float:
        """A point of the domain with the sign of `like`, rounded to three decimals for readable reports."""
        sign = 1.0 if like > 0 or self.positive else -1.0
        for _ in range(1000):
            x = round(sign * rng.uniform(self.low, self.high), 3)
            if self.contains(x):
                return x
        raise ValueError(f"no point of {self} has the sign of {like}")


@dataclass(frozen=True)
class Op:
    """One differentiable operation of the engine. `syntax` is how a student's code reaches it:
    ("operator", name) is the `operator` module's function (`a + b` is operator.add), ("method", name) a
    method called with no argument (`a.exp()`). `reflected` is the dunder Python calls for a plain number
    on the left. With `exponent`, the right operand is the plain number of each point (pow's k)."""
    id: str
    title: str
    syntax: tuple[str, str]
    form: str                                     # how a report writes it: "a + b", "a.exp()", "a ** k"
    domain: Domain
    derivative: str
    concept: str
    upstream: float                               # out.grad in the op's probes, never 1
    points: tuple                                 # public test points: (x,) or (x, y) or (x, k)
    reflected: str | None = None
    exponent: bool = False
    repeated: bool = False                        # also probe `a OP a` (a value used twice)
    numbers: tuple[tuple[str, float], ...] = ()   # plain-number forms: ("left"|"right", the number)
    misconceptions: Misconceptions = no_misconceptions
    in_random_graphs: bool = True

    @property
    def arity(self) -> int:
        return 2 if " b" in self.form else 1

    @property
    def method(self) -> str:
        """The method of the engine's class this op goes through, to tell "missing" from "broken"."""
        via, name = self.syntax
        return DUNDERS.get(name, f"__{name}__") if via == "operator" else name

    def label(self, values: list, number: tuple[str, float] | None = None) -> str:
        """The case as a report names it, e.g. `a * b @ 1.5, -2.25` or `2.0 + a`."""
        if number is not None:
            side, c = number
            symbol = self.form.split()[1]
            return f"{c:g} {symbol} a" if side == "left" else f"a {symbol} {c:g}"
        if self.exponent:
            return f"a ** {values[1]:g} @ {values[0]:g}"
        return f"{self.form} @ {', '.join(f'{v:g}' for v in values)}"


DUNDERS = {"add": "__add__", "mul": "__mul__", "sub": "__sub__", "truediv": "__truediv__", "pow": "__pow__",
           "neg": "__neg__"}


@dataclass(frozen=True)
class Part:
    """A part that is not one op (backward, zero_grad, train), graded by its own file of checks,
    grader/checks/test_<id>.py. Its title and points in a course are the assignment's (`AssignedPart`)."""
    id: str
    concept: str


# ---------------------------------------------------------------------------------------------- misconceptions

def pow_misconceptions(xs, k, out):
    x = xs[0]
    if not isinstance(k, int | float) or x <= 0:
        return []
    return [("The exponent must drop by one: k·x^k instead of k·x^(k−1).", [k * x**k]),
            ("The factor k is missing: x^(k−1) instead of k·x^(k−1).", [x ** (k - 1)]),
            ("That is (k−1)·x^(k−1); the factor is k, not k−1.", [(k - 1) * x ** (k - 1)])]


def exp_misconceptions(xs, k, out):
    return [("The derivative of e^x is e^x itself, not 1.", [1.0])]


def tanh_misconceptions(xs, k, out):
    t = math.tanh(xs[0])
    return [("t must be squared: 1 − t instead of 1 − t².", [1 - t]),
            ("That is 1 + t², the sign inside is wrong.", [1 + t * t]),
            ("That is t², not 1 − t².", [t * t])]


def relu_misconceptions(xs, k, out):
    x = xs[0]
    return [("You multiplied by the output value instead of the step (1 where x > 0, else 0).",
             [out if isinstance(out, float) else 0.0]),
            (("The gate is missing: the gradient passes where x < 0 too; it must pass only where x > 0 "
             "(times `out.data > 0`)."), [1.0]),
            (("The gate is inverted: the gradient passes where x < 0 and is blocked where x > 0; it must be "
             "the other way round."), [1.0 if x < 0 else 0.0])]


def sigmoid_misconceptions(xs, k, out):
    s = out if isinstance(out, float) else 0.0
    return [("You used the input x where the output s = σ(x) belongs: x·(1 − x) instead of s·(1 − s).",
             [xs[0] * (1 - xs[0])]),
            ("The derivative of σ is σ·(1 − σ), not σ itself.", [s])]


def log_misconceptions(xs, k, out):
    return [("The derivative of log x is 1/x, not log x.", [math.log(xs[0])]),
            ("The derivative of log x is 1/x, not x.", [xs[0]])]


# ---------------------------------------------------------------------------------------------- the ops

# Inputs away from 0 and ±1 (where x² = x or a factor of 1 hides a dropped term) and from overflow.
PLAIN = Domain(0.3, 4.5, avoid=(1.0, -1.0))

OPS: dict[str, Op] = {op.id: op for op in [
    Op("add", "Addition", ("operator", "add"), "a + b", PLAIN,
       "∂(a+b)/∂a = 1 and ∂(a+b)/∂b = 1",
       "A `+` node passes its gradient through unchanged: the local derivative is 1 for both inputs. "
       "Gradients accumulate with `+=`, because a value used twice (`a + a`) collects a share from each use.",
       upstream=1.7, points=((1.5, -2.25), (0.37, 4.1)), reflected="__radd__", repeated=True,
       numbers=(("right", 2.0), ("left", 2.0))),
    Op("mul", "Multiplication", ("operator", "mul"), "a * b", PLAIN,
       "∂(a·b)/∂a = b and ∂(a·b)/∂b = a",
       "A `*` node swaps its inputs: the local derivative with respect to one input is the other input's "
       "value, multiplied by the output's gradient (the chain rule).",
       upstream=1.7, points=((1.5, -2.25), (-0.8, 3.3)), reflected="__rmul__", repeated=True,
       numbers=(("right", 3.0), ("left", 3.0))),
    Op("pow", "Power", ("operator", "pow"), "a ** k", Domain(0.3, 3.0, avoid=(1.0, -1.0)),
       "d(x^k)/dx = k·x^(k−1)",
       "The power rule for a constant exponent, d(x**k)/dx = k * x**(k-1). With it, division needs no "
       "code of its own: a / b is a * b**-1.",
       upstream=1.3, points=((1.7, 3), (0.6, -2), (2.3, 2.5), (-1.3, 3), (1.9, 0.5), (1.4, 2.0)),
       exponent=True, misconceptions=pow_misconceptions),
    Op("exp", "Exponential", ("method", "exp"), "exp(a)", Domain(0.3, 3.0),
       "d(e^x)/dx = e^x",
       "The exponential is its own derivative, so the backward pass reuses the output's value.",
       upstream=1.4, points=((0.7,), (-1.3,), (2.2,)), misconceptions=exp_misconceptions),
    Op("tanh", "tanh", ("method", "tanh"), "tanh(a)", Domain(0.4, 3.0),
       "d tanh(x)/dx = 1 − tanh(x)²",
       "The neuron's squashing activation. Its derivative 1 - tanh(x)**2 needs only the output, so one "
       "node stands in for the whole formula built from exp.",
       upstream=0.8, points=((0.45,), (-1.2,), (2.1,), (4.5,), (-5.0,)), misconceptions=tanh_misconceptions),
    Op("relu", "ReLU", ("method", "relu"), "relu(a)", Domain(0.2, 3.0, avoid=(1.0,)),
       "d relu(x)/dx = 1 where x > 0, and 0 where x < 0",
       "A piecewise-linear activation: the gradient flows through where the input was positive and "
       "stops where it was not.",
       upstream=1.6, points=((0.8,), (-0.6,), (2.3,)), misconceptions=relu_misconceptions),
    Op("neg", "Negation", ("operator", "neg"), "-a", PLAIN,
       "d(−a)/da = −1",
       "Negation is multiplication by -1: an operation built from others needs no backward pass of its own.",
       upstream=0.9, points=((1.3,), (-0.7,)), in_random_graphs=False),
    Op("sub", "Subtraction", ("operator", "sub"), "a - b", PLAIN,
       "∂(a−b)/∂a = 1 and ∂(a−b)/∂b = −1",
       "a - b is a + (-b), so its gradient comes from add and neg.",
       upstream=1.7, points=((1.5, -2.25),), reflected="__rsub__", numbers=(("right", 2.0), ("left", 1.0)),
       in_random_graphs=False),
    Op("div", "Division", ("operator", "truediv"), "a / b", PLAIN,
       "∂(a/b)/∂a = 1/b and ∂(a/b)/∂b = −a/b²",
       "a / b is a * b**-1, so its gradient comes from mul and pow.",
       upstream=1.7, points=((1.5, -2.25),), reflected="__rtruediv__", numbers=(("right", 2.0), ("left", 2.0)),
       in_random_graphs=False),
    Op("sigmoid", "Sigmoid", ("method", "sigmoid"), "sigmoid(a)", Domain(0.3, 3.0),
       "dσ(x)/dx = σ(x)·(1 − σ(x))",
       "The logistic function σ(x) = 1 / (1 + e^-x). Like tanh, its derivative needs only its output.",
       upstream=1.2, points=((0.6,), (-1.4,), (2.5,)), misconceptions=sigmoid_misconceptions),
    Op("log", "Logarithm", ("method", "log"), "log(a)", Domain(0.3, 4.0, avoid=(1.0,), positive=True),
       "d(log x)/dx = 1/x",
       "The natural logarithm, defined for x > 0: its local derivative is 1/x, large near 0.",
       upstream=0.7, points=((0.6,), (2.7,), (3.3,)), misconceptions=log_misconceptions),
]}

PARTS: dict[str, Part] = {part.id: part for part in [
    Part("backward", "Backpropagation visits the graph in reverse topological order, so a node's gradient is "
                     "complete before it is passed on; the output's own gradient is seeded with 1."),
    Part("zero_grad", "backward() adds to .grad, so each training step must first reset every parameter's "
                      "gradient; forgetting it is the bug the lecture walks into."),
    Part("train", "Gradient descent: forward pass, loss, zero the gradients, backward pass, then move every "
                  "parameter a small step against its gradient."),
]}

# Every part id the grader knows, ops first in declaration order. Course staff script against these names.
PART_IDS: tuple[str, ...] = (*OPS, *PARTS)


def is_op(part_id: str) -> bool:
    return part_id in OPS


def concept(part_id: str) -> str:
    return OPS[part_id].concept if part_id in OPS else PARTS[part_id].concept if part_id in PARTS else ""


def assignment_ops(part_ids) -> tuple[str, ...]:
    """The op parts among `part_ids`, in declaration order."""
    chosen = set(part_ids)
    return tuple(op for op in OPS if op in chosen)
