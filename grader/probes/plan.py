"""What every submission is asked: the probe plan, identical for every run (fixed inputs, fixed seed).

Test points stay clear of coincidences, so that no wrong formula passes by accident and no right one fails
by round-off: no input in {0, ±1}, no exponent in {0, 1}, nothing within 0.05 of relu's kink, exp and tanh
inputs far from overflow, and every upstream gradient `g` different from 1 so a dropped `out.grad` factor
shows. Each probe names the part it grades; `stage` says which sandboxed child runs it ("engine", or
"train", which is handed a working model and so runs in a child of its own).
"""
from __future__ import annotations

import random
from functools import cache, lru_cache

LEAF0, LEAF1 = {"leaf": 0}, {"leaf": 1}


def const(c: float) -> dict:
    return {"const": c}


def op_probe(part: str, name: str, op: str, operands: list, leaves: list, g: float, pre: list | None = None,
             check: str = "value") -> dict:
    """`check` groups cases for the judge: "value" (fresh grads), "accumulate" (grads already hold
    something, or one leaf is used twice), "number" (a plain number on one side)."""
    return {"id": f"{part}/{name}", "kind": "op", "part": part, "stage": "engine", "check": check, "op": op,
            "operands": operands, "leaves": leaves, "g": g, "pre": pre, "label": name}


def binary_cases(part: str, op: str, pairs: list, const_forms: list) -> list[dict]:
    symbol = {"add": "+", "mul": "*", "sub": "-", "div": "/"}[op]
    cases = [op_probe(part, f"a {symbol} b @ {x}, {y}", op, [LEAF0, LEAF1], [x, y], g) for x, y, g in pairs]
    x, y, g = pairs[0]
    cases.append(op_probe(part, f"a {symbol} b, grads already 0.3 and -0.45", op, [LEAF0, LEAF1], [x, y], g,
                          pre=[0.3, -0.45], check="accumulate"))
    for label, operands, x in const_forms:
        cases.append(op_probe(part, label, op, operands, [x], 1.3, check="number"))
    return cases


def unary_cases(part: str, op: str, xs: list, g: float, operands_for=lambda: [LEAF0], label="{op}(a)") -> list:
    cases = [op_probe(part, label.format(op=op, x=x) + f" @ {x}", op, operands_for(), [x], g) for x in xs]
    cases.append(op_probe(part, label.format(op=op, x=xs[0]) + f" @ {xs[0]}, grad already 0.3", op, operands_for(),
                          [xs[0]], g, pre=[0.3], check="accumulate"))
    return cases


def pow_cases() -> list[dict]:
    cases = []
    for x, k in [(1.7, 3), (0.6, -2), (2.3, 2.5), (-1.3, 3), (1.9, 0.5), (1.4, 2.0)]:
        cases.append(op_probe("pow", f"a ** {k} @ {x}", "pow", [LEAF0, const(k)], [x], 1.3))
    cases.append(op_probe("pow", "a ** 2 @ 1.6, grad already 0.3", "pow", [LEAF0, const(2)], [1.6], 1.3, pre=[0.3],
                          check="accumulate"))
    return cases


def op_probes() -> list[dict]:
    probes = []
    probes += binary_cases("add", "add", [(1.5, -2.25, 1.7), (0.37, 4.1, -0.6)],
                           [("a + 2.0", [LEAF0, const(2.0)], 0.7), ("2.0 + a", [const(2.0), LEAF0], 0.7)])
    probes.append(op_probe("add", "a + a @ 1.3", "add", [LEAF0, LEAF0], [1.3], 1.0, check="accumulate"))
    probes += binary_cases("mul", "mul", [(1.5, -2.25, 1.7), (-0.8, 3.3, -0.6)],
                           [("a * 3.0", [LEAF0, const(3.0)], 0.7), ("3.0 * a", [const(3.0), LEAF0], 0.7)])
    probes.append(op_probe("mul", "a * a @ 1.3", "mul", [LEAF0, LEAF0], [1.3], 1.0, check="accumulate"))
    probes += pow_cases()
    probes += unary_cases("exp", "exp", [0.7, -1.3, 2.2], 1.4)
    probes += unary_cases("tanh", "tanh", [0.45, -1.2, 2.1, 4.5, -5.0], 0.8)
    probes += unary_cases("relu", "relu", [0.8, -0.6, 2.3], 1.6)
    probes += unary_cases("neg", "neg", [1.3, -0.7], 0.9, label="-a")
    probes += binary_cases("sub", "sub", [(1.5, -2.25, 1.7)],
                           [("a - 2.0", [LEAF0, const(2.0)], 0.7), ("1 - a", [const(1.0), LEAF0], 0.6)])
    probes += binary_cases("div", "div", [(1.5, -2.25, 1.7)],
                           [("a / 2.0", [LEAF0, const(2.0)], 0.7), ("2 / a", [const(2.0), LEAF0], 0.6)])
    return probes


# ----------------------------------------------------------------------------------------------
# Whole expression graphs: fixed classics with reused nodes, plus random graphs from a fixed seed.

def graph_probe(name: str, leaves: list, nodes: list, parts: tuple) -> dict:
    return {"id": f"graph/{name}", "kind": "graph", "stage": "engine", "part": None, "parts": list(parts),
            "label": name, "leaves": leaves, "nodes": nodes}


def N(i: int) -> dict:
    return {"node": i}


CLASSIC_GRAPHS = [
    graph_probe("b = a + a", [1.3], [["add", LEAF0, LEAF0], ["mul", N(0), const(1.5)]], ("add",)),
    graph_probe("a * a", [1.3], [["mul", LEAF0, LEAF0], ["mul", N(0), const(1.5)]], ("mul",)),
    graph_probe("a*b + a", [1.5, -2.25], [["mul", LEAF0, LEAF1], ["add", N(0), LEAF0]], ("mul", "add")),
    graph_probe("(a*b) * (a+b)", [2.5, -0.75], [["mul", LEAF0, LEAF1], ["add", LEAF0, LEAF1], ["mul", N(0), N(1)]],
                ("mul", "add")),
    # The lecture's neuron, with x2 moved off 0 so that w2's gradient is not 0 whatever the formula.
    graph_probe("the lecture's neuron tanh(x1*w1 + x2*w2 + b)", [2.0, 0.4, -3.0, 1.0, 6.8813735870195432],
                [["mul", LEAF0, {"leaf": 2}], ["mul", LEAF1, {"leaf": 3}], ["add", N(0), N(1)],
                 ["add", N(2), {"leaf": 4}], ["tanh", N(3)]], ("mul", "add", "tanh")),
    graph_probe("tanh(a) * a", [0.8], [["tanh", LEAF0], ["mul", N(0), LEAF0]], ("tanh", "mul")),
    graph_probe("exp(a) * exp(a) + a ** 3", [0.6], [["exp", LEAF0], ["mul", N(0), N(0)], ["pow", LEAF0, const(3)],
                                                    ["add", N(1), N(2)]], ("exp", "mul", "pow", "add")),
    graph_probe("relu(a*b) + relu(a)", [1.2, 0.9], [["mul", LEAF0, LEAF1], ["relu", N(0)], ["relu", LEAF0],
                                                    ["add", N(1), N(2)]], ("mul", "relu", "add")),
    graph_probe("(a - b) / (a + b) + (-a)", [2.5, 0.75],
                [["sub", LEAF0, LEAF1], ["add", LEAF0, LEAF1], ["div", N(0), N(1)], ["neg", LEAF0],
                 ["add", N(2), N(3)]], ("sub", "add", "div", "neg")),
]

PRIMITIVE_OPS = ("add", "mul", "pow", "exp", "tanh", "relu")
RANDOM_SEED = 20221  # a regrade must give the same score: never change without bumping the grader version
RANDOM_GRAPHS = 12


def safe_input(op: str, x: float, k: float | None = None) -> bool:
    """Whether an op's input is clear of kinks, overflow and domain errors (see the module docstring)."""
    if not (1e-2 < abs(x) < 20):
        return False
    if op == "exp":
        return abs(x) < 3.5
    if op == "tanh":
        return abs(x) < 3.0
    if op == "relu":
        return abs(x) > 0.05
    if op == "pow":
        return (x > 0.2 or float(k).is_integer()) and abs(x) < 4 and abs(x) > 0.2
    return True


def random_graph(rng: random.Random, index: int) -> dict:
    """A random DAG of primitive ops in which nodes are reused, evaluated forward here to stay safe."""
    import math
    leaves = [round(rng.uniform(0.3, 1.8) * rng.choice((1, -1)), 3) for _ in range(rng.randint(2, 3))]
    values = list(leaves)
    refs = [{"leaf": i} for i in range(len(leaves))]
    nodes: list = []
    used_ops = set()
    while len(nodes) < rng.randint(4, 9) or len(used_ops) < 2:
        op = rng.choice(PRIMITIVE_OPS)
        i = rng.randrange(len(refs))
        x = values[i]
        if op in ("add", "mul"):
            j = rng.randrange(len(refs))
            if rng.random() < 0.2:
                c = round(rng.uniform(0.5, 2.5), 2)
                other, y = const(c), c
                args = [refs[i], other] if rng.random() < 0.5 else [other, refs[i]]
            else:
                args, y = [refs[i], refs[j]], values[j]
            result = x + y if op == "add" else x * y
        elif op == "pow":
            k = rng.choice((2, 3, -1, 0.5, 1.5))
            if not safe_input(op, x, k):
                continue
            args, result = [refs[i], const(k)], x ** k
        else:
            if not safe_input(op, x):
                continue
            args = [refs[i]]
            result = {"exp": math.exp, "tanh": math.tanh, "relu": lambda v: max(v, 0.0)}[op](x)
        if not (1e-2 < abs(result) < 20):
            continue
        nodes.append([op, *args])
        used_ops.add(op)
        refs.append({"node": len(nodes) - 1})
        values.append(result)
    # Sum the last few nodes so that several branches meet at the output.
    for back in (2, 3):
        if len(nodes) >= back:
            nodes.append(["add", {"node": len(nodes) - 1}, {"node": len(nodes) - back}])
    ops = tuple(sorted({node[0] for node in nodes}))
    return graph_probe(f"random graph #{index + 1}", leaves, nodes, ops)


def random_graphs() -> list[dict]:
    rng = random.Random(RANDOM_SEED)
    return [random_graph(rng, i) for i in range(RANDOM_GRAPHS)]


# ----------------------------------------------------------------------------------------------
# backward(): nodes whose closures are ours, so only the student's ordering and seeding is measured.

def backward_probe(name: str, nodes: list, label: str) -> dict:
    return {"id": f"backward/{name}", "kind": "backward", "part": "backward", "stage": "engine", "label": label,
            "nodes": nodes}


def leaf(data: float) -> dict:
    return {"data": data, "children": [], "weights": []}


def inner(data: float, children: list, weights: list) -> dict:
    return {"data": data, "children": children, "weights": weights}


def diamond() -> list:
    # c is used by d and e, d by e and out: a non-leaf reused by two consumers.
    return [leaf(1.5), leaf(-0.5), inner(0.7, [0, 1], [0.5, 1.5]), inner(0.3, [0, 2], [2.0, -1.0]),
            inner(-1.1, [2, 3], [0.7, 1.3]), inner(0.9, [3, 4], [1.1, -0.4])]


def fan_out() -> list:
    nodes = [leaf(0.8)] + [inner(0.1 * i, [0], [0.5 + 0.25 * i]) for i in range(1, 5)]
    nodes.append(inner(2.0, [1, 2, 3, 4], [1.0, -2.0, 3.0, 0.5]))
    return nodes


CHAIN_LENGTH = 2500


def chain() -> list:
    nodes = [leaf(0.5)]
    for i in range(1, CHAIN_LENGTH):
        nodes.append(inner(0.5, [i - 1], [1.001 if i % 2 else 0.999]))
    return nodes


def backward_probes() -> list[dict]:
    return [
        backward_probe("diamond", diamond(), "backward() on a diamond: c feeds d and e, d feeds e and the output"),
        backward_probe("fan-out", fan_out(), "backward() on one leaf feeding four nodes that meet at the output"),
        backward_probe("single", [leaf(1.7)], "backward() on a lone leaf"),
        backward_probe("chain", chain(), f"backward() on a chain of {CHAIN_LENGTH} nodes"),
    ]


# ----------------------------------------------------------------------------------------------
# zero_grad and train, each in isolation.

def zero_grad_probes() -> list[dict]:
    rng = random.Random(7)
    params = [[round(rng.uniform(-1, 1), 4), round(rng.uniform(-3, 3), 4) or 0.5] for _ in range(9)]
    return [{"id": "zero_grad/module", "kind": "zero_grad", "part": "zero_grad", "stage": "engine",
             "label": "zero_grad() on a module of 9 parameters holding gradients", "params": params}]


LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]


def initial_weights(n: int = 21) -> list[float]:
    rng = random.Random(1337)
    return [round(rng.uniform(-1, 1), 6) for _ in range(n)]


def train_probe(name: str, label: str, **kwargs) -> dict:
    return {"id": f"train/{name}", "kind": "train", "part": "train", "stage": "train", "label": label,
            "nin": 3, "nouts": [4, 1], "weights": initial_weights(), "xs": LECTURE_XS, "ys": LECTURE_YS, **kwargs}


def train_probes() -> list[dict]:
    return [
        train_probe("one-step", "one step with lr=0.037", steps=1, lr=0.037),
        train_probe("defaults", "train(model, xs, ys) with the default steps and lr"),
        train_probe("custom", "train(model, xs, ys, steps=6, lr=0.1)", steps=6, lr=0.1),
    ]


@lru_cache(maxsize=1)
def build_plan() -> tuple[dict, ...]:
    """Every probe, in a fixed order. Cached: the plan is the same for every submission."""
    return tuple(op_probes() + CLASSIC_GRAPHS + random_graphs() + backward_probes() + zero_grad_probes()
                 + train_probes())


@cache
def stage_probes(stage: str) -> tuple[dict, ...]:
    """The probes one sandboxed child answers ("engine" or "train"), as one lasting object, so the
    sandbox server is sent them once per run."""
    return tuple(p for p in build_plan() if p["stage"] == stage)
