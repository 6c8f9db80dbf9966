"""What every submission is asked: the probe plan, derived from the op declarations in grader/parts.py.

A plan is built for one set of inputs. The public plan uses each op's declared public points and a fixed
seed for random graphs and weights; it is what the student edition ships and checks with. The instructor's
grading draws every number from a seed of its own (see grader/secret.py): the same structure, the same
signs, new values inside each op's safe domain, so answers memorised from the public plan are worth nothing.

Test points stay clear of coincidences, so that no wrong formula passes by accident and no right one fails
by round-off: inputs come from each op's `Domain`, every upstream gradient `g` differs from 1 so a dropped
`out.grad` factor shows, and whole graphs are checked node by node against the domains before they are
used. Each probe names the part it grades; its `stage` key (a name the child's records keep) says which
sandboxed child answers it: "engine", or "train", which is handed a working model and so runs in a child of
its own. Every probe carries what the
child needs to evaluate it (`apply`: how each of its ops is reached), so the child keeps no table of ops.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from grader.parts import OPS, Op
from grader.protocol import chain_nodes

LEAF0, LEAF1 = {"leaf": 0}, {"leaf": 1}
PUBLIC_SEED = 20221  # the public plan's random graphs and weights; never change without bumping the version
RANDOM_GRAPHS = 12
GRAPH_RANGE = (0.3, 1.8)  # |leaf| of random graphs
NODE_RANGE = (1e-2, 20.0)  # |value| every node of a graph must keep

# forward(op_id, args) -> the reference's value of that op on plain floats (None where it is undefined).
Forward = Callable[[str, list], float | None]


def const(c: float) -> dict:
    return {"const": c}


def N(i: int) -> dict:
    return {"node": i}


@dataclass
class Plan:
    """The probes of one grading, in a fixed order, with a digest that names them (a chain by its
    description, which its nodes follow from)."""
    probes: tuple[dict, ...]
    ops: tuple[str, ...]
    public: bool
    digest: str = ""
    _by_child: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        text = json.dumps([wire(probe) for probe in self.probes], sort_keys=True, separators=(",", ":"))
        self.digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def for_child(self, child: str, parts: tuple[str, ...] | None = None) -> tuple[dict, ...]:
        """The probes the sandboxed child `child` ("engine" or "train") answers, as one lasting object per
        (child, parts), so the sandbox server is sent each list once. With `parts`: their probes and graphs,
        and, when one is an op, every op's own cases (an op is blamed on another only when that one fails
        its own cases)."""
        key = (child, parts)
        if key not in self._by_child:
            chosen = set(parts or ())
            ops = asked_parts(self.ops, chosen) & set(self.ops)
            self._by_child[key] = tuple(wire(p) for p in self.probes if p["stage"] == child and (
                parts is None or probe_parts(p) & chosen or (p["kind"] == "op" and p["part"] in ops)))
        return self._by_child[key]


def asked_parts(ops: Iterable[str], parts: Iterable[str]) -> set[str]:
    """The parts whose own cases a selection of `parts` asks: those, and every op when one is an op (an op
    is blamed on another only when that one fails its own cases)."""
    chosen, ops = set(parts), set(ops)
    return chosen | ops if chosen & ops else chosen


def wire(probe: dict) -> dict:
    """A probe as the child is sent it: a chain as its description, not its thousands of nodes."""
    return {k: v for k, v in probe.items() if k != "nodes"} if "chain" in probe else probe


def probe_parts(probe: dict) -> set[str]:
    return set(probe.get("parts") or [probe.get("part")])


class Inputs:
    """Where a plan's numbers come from: the declared public points, or draws from `seed`."""

    def __init__(self, seed: int | None) -> None:
        self.public = seed is None
        self.rng = random.Random(PUBLIC_SEED if seed is None else seed)

    def point(self, op: Op, public: tuple) -> list:
        if self.public:
            return list(public)
        if op.exponent:
            return [op.domain.draw(self.rng, public[0]), public[1]]
        values = []
        for like in public:
            x = op.domain.draw(self.rng, like)
            while any(abs(abs(x) - abs(v)) < 0.1 for v in values):  # a*b must tell a from b
                x = op.domain.draw(self.rng, like)
            values.append(x)
        return values

    def number(self, public: float, low: float, high: float) -> float:
        return public if self.public else round(self.rng.uniform(low, high) * (1 if public > 0 else -1), 3)


def apply_table(op_ids) -> dict:
    """How the child reaches each op: {op: [via, name]}, see `grader.parts.Op.syntax`."""
    return {op: list(OPS[op].syntax) for op in sorted(set(op_ids))}


def method_name(op: Op, operands: list) -> str:
    """The dunder that `op` dispatches to for these operands (a plain number on the left reflects)."""
    if op.reflected and "const" in operands[0]:
        return op.reflected
    return op.method


def observe_table(ops) -> dict[str, str]:
    """Every method through which one of the assignment's ops is reached, and that op: what the child
    watches while a case is built, to see which ops a composite op really runs."""
    table = {}
    for op in (OPS[i] for i in ops):
        table[op.method] = op.id
        if op.reflected:
            table[op.reflected] = op.id
    return table


def op_probe(op: Op, label: str, operands: list, leaves: list, observe: dict, pre: list | None = None,
             check: str = "value", g: float | None = None) -> dict:
    """`check` groups cases for the judge: "value" (fresh grads), "accumulate" (grads already hold
    something, or one leaf is used twice), "number" (a plain number on one side)."""
    return {"id": f"{op.id}/{label}", "kind": "op", "part": op.id, "stage": "engine", "check": check, "op": op.id,
            "apply": apply_table([op.id]), "method": method_name(op, operands), "observe": observe,
            "operands": operands, "leaves": leaves, "g": op.upstream if g is None else g, "pre": pre, "label": label}


def op_cases(op: Op, inputs: Inputs, observe: dict) -> list[dict]:
    """An op's cases: each point, the first point with gradients already held, the value used twice, and
    each plain-number form."""
    points = [inputs.point(op, p) for p in op.points]
    cases = []
    for values in points:
        operands, leaves = operands_of(op, values)
        cases.append(op_probe(op, op.label(values), operands, leaves, observe))
    first = points[0]
    operands, leaves = operands_of(op, first)
    pre = [0.3, -0.45][:len(leaves)]
    cases.append(op_probe(op, f"{op.label(first)}, grads already {', '.join(f'{p:g}' for p in pre)}", operands,
                          leaves, observe, pre=pre, check="accumulate"))
    if op.repeated:
        x = inputs.number(1.3, 0.4, 2.0)
        cases.append(op_probe(op, f"{op.form.replace('b', 'a')} @ {x:g}", [LEAF0, LEAF0], [x], observe,
                              check="accumulate", g=1.0))
    for side, c in op.numbers:
        x = first[0]
        operands = [LEAF0, const(c)] if side == "right" else [const(c), LEAF0]
        cases.append(op_probe(op, op.label([x], (side, c)) + f" @ {x:g}", operands, [x], observe, check="number"))
    return cases


def operands_of(op: Op, values: list) -> tuple[list, list]:
    """The operands and leaves of one point: pow's second value is a plain number, not a leaf."""
    if op.exponent:
        return [LEAF0, const(values[1])], [values[0]]
    return [{"leaf": i} for i in range(len(values))], list(values)


# ----------------------------------------------------------------------------------------------
# Whole expression graphs: fixed classics with reused nodes, plus random graphs.

def graph_probe(name: str, leaves: list, nodes: list) -> dict:
    ops = sorted({node[0] for node in nodes})
    return {"id": f"graph/{name}", "kind": "graph", "stage": "engine", "part": None, "parts": ops,
            "apply": apply_table(ops), "label": name, "leaves": leaves, "nodes": nodes}


CLASSIC_GRAPHS = [
    ("b = a + a", [1.3], [["add", LEAF0, LEAF0], ["mul", N(0), const(1.5)]]),
    ("a * a", [1.3], [["mul", LEAF0, LEAF0], ["mul", N(0), const(1.5)]]),
    ("a*b + a", [1.5, -2.25], [["mul", LEAF0, LEAF1], ["add", N(0), LEAF0]]),
    ("(a*b) * (a+b)", [2.5, -0.75], [["mul", LEAF0, LEAF1], ["add", LEAF0, LEAF1], ["mul", N(0), N(1)]]),
    # The lecture's neuron, with x2 moved off 0 so that w2's gradient is not 0 whatever the formula.
    ("the lecture's neuron tanh(x1*w1 + x2*w2 + b)", [2.0, 0.4, -3.0, 1.0, 6.8813735870195432],
     [["mul", LEAF0, {"leaf": 2}], ["mul", LEAF1, {"leaf": 3}], ["add", N(0), N(1)], ["add", N(2), {"leaf": 4}],
      ["tanh", N(3)]]),
    ("tanh(a) * a", [0.8], [["tanh", LEAF0], ["mul", N(0), LEAF0]]),
    ("exp(a) * exp(a) + a ** 3", [0.6], [["exp", LEAF0], ["mul", N(0), N(0)], ["pow", LEAF0, const(3)],
                                        ["add", N(1), N(2)]]),
    ("relu(a*b) + relu(a)", [1.2, 0.9], [["mul", LEAF0, LEAF1], ["relu", N(0)], ["relu", LEAF0],
                                         ["add", N(1), N(2)]]),
    ("(a - b) / (a + b) + (-a)", [2.5, 0.75],
     [["sub", LEAF0, LEAF1], ["add", LEAF0, LEAF1], ["div", N(0), N(1)], ["neg", LEAF0], ["add", N(2), N(3)]]),
    ("sigmoid(a * b) + log(a)", [1.4, -0.8], [["mul", LEAF0, LEAF1], ["sigmoid", N(0)], ["log", LEAF0],
                                              ["add", N(1), N(2)]]),
]


def evaluate(nodes: list, leaves: list, forward: Forward) -> list | None:
    """Every node's value, or None when a node leaves its op's domain (or the values' safe range)."""
    values: list = []

    def value(spec):
        if "leaf" in spec:
            return leaves[spec["leaf"]]
        return values[spec["node"]] if "node" in spec else spec["const"]

    for op, *operands in nodes:
        args = [value(spec) for spec in operands]
        if not in_domain(OPS[op], args):
            return None
        result = forward(op, args)
        if result is None or not NODE_RANGE[0] < abs(result) < NODE_RANGE[1]:
            return None
        values.append(result)
    return values


def in_domain(op: Op, args: list) -> bool:
    """Whether a graph node's arguments are safe: a unary op's (and pow's base) inside its domain, a real
    power of a negative base only for a whole exponent, a binary op's inputs away from 0."""
    if op.exponent:
        return op.domain.contains(args[0]) and (args[0] > 0 or float(args[1]).is_integer())
    if op.arity == 1:
        return op.domain.contains(args[0])
    return all(NODE_RANGE[0] < abs(x) < NODE_RANGE[1] for x in args)


def classic_graphs(ops: tuple[str, ...], inputs: Inputs, forward: Forward) -> list[dict]:
    """The fixed graphs whose ops are all in the assignment; with drawn inputs, their leaves keep their signs
    and take new magnitudes for which every node stays in its op's domain."""
    graphs = []
    for name, leaves, nodes in CLASSIC_GRAPHS:
        if not {node[0] for node in nodes} <= set(ops):
            continue
        if not inputs.public:
            for _ in range(1000):
                drawn = [inputs.number(x, 0.4, 2.5) for x in leaves]
                if evaluate(nodes, drawn, forward) is not None:
                    leaves = drawn
                    break
        graphs.append(graph_probe(name, list(leaves), nodes))
    return graphs


def random_graph(rng: random.Random, index: int, ops: list[str], forward: Forward) -> dict:
    """A random DAG of the assignment's ops in which nodes are reused, kept inside every op's domain."""
    leaves = [round(rng.uniform(*GRAPH_RANGE) * rng.choice((1, -1)), 3) for _ in range(rng.randint(2, 3))]
    refs = [{"leaf": i} for i in range(len(leaves))]
    nodes: list = []
    used = set()
    while len(nodes) < rng.randint(4, 9) or len(used) < 2:
        op = OPS[rng.choice(ops)]
        i = rng.randrange(len(refs))
        if op.exponent:
            k = rng.choice((2, 3, -1, 0.5, 1.5))
            args = [refs[i], const(k)]
        elif op.arity == 2:
            if rng.random() < 0.2:
                c = const(round(rng.uniform(0.5, 2.5), 2))
                args = [refs[i], c] if rng.random() < 0.5 else [c, refs[i]]
            else:
                args = [refs[i], refs[rng.randrange(len(refs))]]
        else:
            args = [refs[i]]
        trial = [*nodes, [op.id, *args]]
        computed = evaluate(trial, leaves, forward)
        if computed is None:
            continue
        nodes = trial
        used.add(op.id)
        refs.append({"node": len(nodes) - 1})
    # Sum the last few nodes so that several branches meet at the output.
    for back in (2, 3):
        if len(nodes) >= back:
            nodes.append(["add", {"node": len(nodes) - 1}, {"node": len(nodes) - back}])
    return graph_probe(f"random graph #{index + 1}", leaves, nodes)


def random_graphs(ops: tuple[str, ...], inputs: Inputs, forward: Forward) -> list[dict]:
    usable = [op for op in ops if OPS[op].in_random_graphs]
    if "add" not in ops or len(usable) < 2:
        return []
    return [random_graph(inputs.rng, i, usable, forward) for i in range(RANDOM_GRAPHS)]


# ----------------------------------------------------------------------------------------------
# backward(): nodes whose closures are ours, so only the student's ordering and seeding is measured.

def backward_probe(name: str, nodes: list, label: str) -> dict:
    return {"id": f"backward/{name}", "kind": "backward", "part": "backward", "stage": "engine", "label": label,
            "nodes": nodes}


def leaf(data: float) -> dict:
    return {"data": data, "children": [], "weights": []}


def inner(data: float, children: list, weights: list) -> dict:
    return {"data": data, "children": children, "weights": weights}


def diamond(w) -> list:
    # c is used by d and e, d by e and out: a non-leaf reused by two consumers.
    return [leaf(1.5), leaf(-0.5), inner(0.7, [0, 1], [w(0.5), w(1.5)]), inner(0.3, [0, 2], [w(2.0), w(-1.0)]),
            inner(-1.1, [2, 3], [w(0.7), w(1.3)]), inner(0.9, [3, 4], [w(1.1), w(-0.4)])]


def skip(w) -> list:
    # c feeds the output directly and through two more nodes: a traversal by depth (breadth first) runs c
    # before the nodes that use it in every iteration order of the children, so a wrong order always shows.
    return [leaf(0.9), inner(-0.6, [0], [w(1.7)]), inner(0.4, [1], [w(-0.8)]), inner(1.2, [2], [w(1.3)]),
            inner(0.5, [1, 3], [w(0.6), w(-1.4)])]


def fan_out(w) -> list:
    nodes = [leaf(0.8)] + [inner(0.1 * i, [0], [w(0.5 + 0.25 * i)]) for i in range(1, 5)]
    nodes.append(inner(2.0, [1, 2, 3, 4], [w(1.0), w(-2.0), w(3.0), w(0.5)]))
    return nodes


CHAIN_LENGTH = 2500


CHAIN = {"length": CHAIN_LENGTH, "data": 0.5, "weights": [1.001, 0.999]}


@cache
def chain() -> tuple:
    """The same in every plan (one object, shared by all): its answer is the depth of the walk, which no
    input changes, so the reference answers it once per process, and the child is sent `CHAIN`, not the
    nodes, which it builds itself (`grader.protocol.chain_nodes`)."""
    return tuple(chain_nodes(CHAIN))


def backward_probes(inputs: Inputs) -> list[dict]:
    def w(public: float) -> float:
        return inputs.number(public, 0.3, 2.0)
    return [
        backward_probe("diamond", diamond(w), "backward() on a diamond: c feeds d and e, d feeds e and the output"),
        backward_probe("skip", skip(w), "backward() on a graph where c feeds the output directly and through "
                       "two more nodes"),
        backward_probe("fan-out", fan_out(w), "backward() on one leaf feeding four nodes that meet at the output"),
        backward_probe("single", [leaf(w(1.7))], "backward() on a lone leaf"),
        {**backward_probe("chain", chain(), f"backward() on a chain of {CHAIN_LENGTH} nodes"), "shared": True,
         "chain": CHAIN},
    ]


# ----------------------------------------------------------------------------------------------
# zero_grad and train, each in isolation.

def zero_grad_probes(inputs: Inputs) -> list[dict]:
    rng = inputs.rng
    params = [[round(rng.uniform(-1, 1), 4), round(rng.uniform(0.5, 3), 4) * rng.choice((1, -1))] for _ in range(9)]
    seeds = [round(rng.uniform(0.5, 3), 4) * rng.choice((1, -1)) for _ in range(3)]
    values = [round(rng.uniform(-1, 1), 4) for _ in range(40)]
    return [
        {"id": "zero_grad/module", "kind": "zero_grad", "part": "zero_grad", "stage": "engine",
         "label": "zero_grad() on a Module subclass of 9 parameters holding gradients", "params": params},
        {"id": "zero_grad/own-classes", "kind": "zero_grad_nn", "part": "zero_grad", "stage": "engine",
         "label": "zero_grad() on your own MLP(3, [4, 1]), Layer(3, 2) and Neuron(3), every parameter holding "
                  "a gradient", "nin": 3, "nouts": [4, 1], "grads": seeds, "values": values},
    ]


LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]
TRAIN_WEIGHTS = 21  # an MLP(3, [4, 1])


def initial_weights(inputs: Inputs) -> list[float]:
    rng = random.Random(1337) if inputs.public else inputs.rng
    return [round(rng.uniform(-1, 1), 6) for _ in range(TRAIN_WEIGHTS)]


def train_probe(name: str, label: str, weights: list, **kwargs) -> dict:
    return {"id": f"train/{name}", "kind": "train", "part": "train", "stage": "train", "label": label,
            "nin": 3, "nouts": [4, 1], "weights": weights, "xs": LECTURE_XS, "ys": LECTURE_YS, **kwargs}


def train_probes(inputs: Inputs) -> list[dict]:
    weights = initial_weights(inputs)
    return [
        train_probe("one-step", "one step with lr=0.037", weights, steps=1, lr=0.037),
        train_probe("defaults", "train(model, xs, ys) with the default steps and lr", weights),
        train_probe("custom", "train(model, xs, ys, steps=6, lr=0.1)", weights, steps=6, lr=0.1),
    ]


def build_plan(ops: tuple[str, ...], forward: Forward, seed: int | None = None,
               parts: tuple[str, ...] = ("backward", "zero_grad", "train")) -> Plan:
    """Every probe of an assignment with these op parts (and these other parts), in a fixed order: the
    public plan when `seed` is None, else one drawn from `seed`. `forward` keeps graphs inside domains."""
    inputs = Inputs(seed)
    observe = observe_table(ops)
    probes = [case for op in ops for case in op_cases(OPS[op], inputs, observe)]
    probes += classic_graphs(ops, inputs, forward) + random_graphs(ops, inputs, forward)
    if "backward" in parts:
        probes += backward_probes(inputs)
    if "zero_grad" in parts:
        probes += zero_grad_probes(inputs)
    if "train" in parts:
        probes += train_probes(inputs)
    return Plan(tuple(probes), tuple(ops), public=seed is None)
