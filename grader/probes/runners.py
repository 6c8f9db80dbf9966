"""Evaluate one probe against an engine and return plain JSON data (floats, bools, short strings).

This module runs inside the sandboxed child next to student code, so it imports nothing but the
standard library and never returns a student object: every number goes through `plain`. Errors raised
by student code are caught per probe and described (type, message, innermost student frame), so one
broken method costs only the probes that use it.
"""
from __future__ import annotations

import math
import numbers
import sys
import traceback
import types

H = 1e-6  # central finite-difference step, as in torch.autograd.gradcheck
MAX_TEXT = 300


class NotANumber(Exception):
    """A value the engine produced is not a finite real number (a string, complex, None, a Value, NaN...)."""


# Bound while this module is imported, before any student code runs, so patching `math` or `builtins`
# cannot change what counts as a number.
_float, _isfinite = float, math.isfinite


def plain(x) -> float:
    """A student's number as a finite float, refusing anything else. NaN and infinities are refused too:
    JSON cannot carry them, no reference value is one, and the report must say what went wrong."""
    if not isinstance(x, (bool, numbers.Real)):
        raise NotANumber(f"expected a real number, got {type(x).__name__}")
    try:
        value = _float(x)
    except OverflowError:
        raise NotANumber(f"expected a real number, got {type(x).__name__} too large for a float") from None
    if not _isfinite(value):
        raise NotANumber(f"expected a real number, got {value}")
    return value


def describe_error(exc: BaseException, student_files: tuple[str, ...] = ()) -> dict:
    """What went wrong and where: the innermost frame that lies in the student's files."""
    where = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if any(filename.startswith(prefix) for prefix in student_files):
            where = [filename, lineno]
    kind = "not_started" if isinstance(exc, NotImplementedError) else "crash"
    if isinstance(exc, NotANumber):
        kind = "not_a_number"
    return {"kind": kind, "type": type(exc).__name__, "message": str(exc)[:MAX_TEXT], "where": where}


def code_location(fn) -> list | None:
    """File and first line of a function or closure, for `file:line` feedback."""
    code = getattr(fn, "__code__", None)
    if code is None:
        code = getattr(getattr(fn, "__func__", None), "__code__", None)
    if code is None:
        return None
    return [code.co_filename, code.co_firstlineno]


# ----------------------------------------------------------------------------------------------
# Building expressions from the probe description

BINARY = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "sub": lambda x, y: x - y,
          "div": lambda x, y: x / y, "pow": lambda x, y: x ** y}
UNARY = {"neg": lambda x: -x, "exp": lambda x: x.exp(), "tanh": lambda x: x.tanh(), "relu": lambda x: x.relu()}
# The method of Value that each op goes through, to tell "missing" from "broken".
METHOD = {"add": "__add__", "mul": "__mul__", "sub": "__sub__", "div": "__truediv__", "pow": "__pow__",
          "neg": "__neg__", "exp": "exp", "tanh": "tanh", "relu": "relu"}
REFLECTED = {"add": "__radd__", "mul": "__rmul__", "sub": "__rsub__", "div": "__rtruediv__"}


def method_name(op: str, operands: list) -> str:
    """The dunder that `op` dispatches to for these operands (a plain number on the left reflects)."""
    if op in REFLECTED and "const" in operands[0]:
        return REFLECTED[op]
    return METHOD[op]


def apply(op: str, args: list):
    if op in BINARY:
        return BINARY[op](args[0], args[1])
    return UNARY[op](args[0])


def resolve(spec: dict, leaves: list, nodes: list):
    if "leaf" in spec:
        return leaves[spec["leaf"]]
    if "node" in spec:
        return nodes[spec["node"]]
    return spec["const"]


def reachable(out, leaves: list) -> list[bool]:
    """Whether each leaf can be reached from `out` through `_prev` (directly, or through the inner nodes
    of an op built from other ops)."""
    seen, stack, found = set(), [out], set()
    targets = {id(leaf) for leaf in leaves}
    while stack and len(seen) < 10_000:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in targets and node is not out:
            found.add(id(node))
        stack.extend(getattr(node, "_prev", ()) or ())
    return [id(leaf) in found for leaf in leaves]


def trusted_backward(out, seed: float, known: list = ()) -> None:
    """Backpropagate through `_prev` in a known-good order, so op probes never depend on the student's
    own `backward()` (graded as a part of its own). `_prev` is usually a set of Values, whose iteration
    order follows memory addresses; children are taken in a fixed order instead (the nodes the probe built,
    in `known`, by position, then the engine's own by value), so the same engine always gets the same
    report."""
    rank = {id(node): i for i, node in enumerate(known)}
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            children = list(getattr(node, "_prev", ()) or ())
            children.sort(key=lambda child: (rank.get(id(child), len(rank)), sort_value(child)), reverse=True)
            stack.extend((child, False) for child in children)
    out.grad = seed
    for node in reversed(order):
        node._backward()


def sort_value(node) -> tuple[float, str]:
    """A key for a node the probe did not build: its value and op, or nothing when they are not plain."""
    try:
        return plain(node.data), str(getattr(node, "_op", ""))
    except BaseException:  # noqa: BLE001 - any student object is allowed here
        return 0.0, ""


# ----------------------------------------------------------------------------------------------
# Probe kinds. Each takes the engine's names and the probe's parameters and returns plain data.

def probe_op(api: dict, probe: dict, files: tuple) -> dict:
    """One op on leaves (or plain numbers): forward value, links, gradients, finite differences."""
    Value = api["Value"]
    op, operands = probe["op"], probe["operands"]
    result: dict = {"method": method_name(op, operands)}
    result["has_method"] = hasattr(Value, result["method"])
    where = code_location(getattr(Value, result["method"], None))
    result["method_where"] = where

    def build(values):
        leaves = [Value(v) for v in values]
        return leaves, apply(op, [resolve(spec, leaves, []) for spec in operands])

    try:
        leaves, out = build(probe["leaves"])
    except BaseException as exc:  # noqa: BLE001 - any failure of student code is a finding
        return {**result, "stage": "forward", "error": describe_error(exc, files)}
    result["is_value"] = isinstance(out, Value)
    if not result["is_value"]:
        result["returned"] = type(out).__name__
        return result
    try:
        result["data"] = plain(out.data)
    except NotANumber as exc:
        return {**result, "stage": "forward", "error": describe_error(exc, files)}
    result["linked"] = reachable(out, leaves)
    result["backward_callable"] = callable(getattr(out, "_backward", None))
    result["backward_where"] = code_location(getattr(out, "_backward", None))
    try:
        for leaf, pre in zip(leaves, probe.get("pre") or [0.0] * len(leaves)):
            leaf.grad = pre
        trusted_backward(out, probe["g"], leaves)
        result["grads"] = [plain(leaf.grad) for leaf in leaves]
        result["out_grad"] = plain(out.grad)  # changed by a closure that adds into the wrong node
    except BaseException as exc:  # noqa: BLE001
        result["stage"] = "backward"
        result["error"] = describe_error(exc, files)
    result["fd"] = finite_differences(build, probe["leaves"])
    return result


def finite_differences(build, values: list) -> list | None:
    """Forward values at x ± h for each leaf: the grader turns them into central differences."""
    pairs = []
    try:
        for i in range(len(values)):
            sides = []
            for step in (H, -H):
                shifted = list(values)
                shifted[i] += step
                sides.append(plain(build(shifted)[1].data))
            pairs.append(sides)
    except BaseException:  # noqa: BLE001 - no estimate then; the forward checks report the failure
        return None
    return pairs


def output_of(leaves, nodes):
    """A built graph as `finite_differences` reads it: the leaves, and the last node as the output."""
    return leaves, nodes[-1]


def probe_graph(api: dict, probe: dict, files: tuple) -> dict:
    """A whole expression graph of ops, backpropagated by `trusted_backward`."""
    Value = api["Value"]

    def build(values):
        leaves = [Value(v) for v in values]
        nodes = []
        for op, *operands in probe["nodes"]:
            build.failed_at = len(nodes)
            nodes.append(apply(op, [resolve(spec, leaves, nodes) for spec in operands]))
        return leaves, nodes

    build.failed_at = 0
    try:
        leaves, nodes = build(probe["leaves"])
        data = [plain(node.data) for node in nodes]
    except BaseException as exc:  # noqa: BLE001
        return {"stage": "forward", "node": build.failed_at, "error": describe_error(exc, files)}
    result: dict = {"data": data}
    try:
        trusted_backward(nodes[-1], 1.0, leaves + nodes)
        result["leaf_grads"] = [plain(leaf.grad) for leaf in leaves]
        result["node_grads"] = [plain(node.grad) for node in nodes]
    except BaseException as exc:  # noqa: BLE001
        result["stage"] = "backward"
        result["error"] = describe_error(exc, files)
    result["fd"] = finite_differences(lambda vals: output_of(*build(vals)), probe["leaves"])
    return result


def probe_backward(api: dict, probe: dict, files: tuple) -> dict:
    """The student's `backward()` over nodes whose `_backward` closures are ours: grads, call order."""
    Value = api["Value"]
    calls: list[int] = []
    values: list = []
    for index, spec in enumerate(probe["nodes"]):
        node = Value(spec["data"], tuple(values[c] for c in spec["children"]), "probe")
        node._backward = _recording_closure(index, node, [values[c] for c in spec["children"]], spec["weights"], calls)
        values.append(node)
    out = values[-1]
    result: dict = {}
    try:
        out.backward()
    except BaseException as exc:  # noqa: BLE001
        result["error"] = describe_error(exc, files)
    result["where"] = code_location(getattr(Value, "backward", None))
    try:
        result["grads"] = [plain(v.grad) for v in values] if len(values) <= 64 else [plain(values[0].grad)]
        result["out_grad"] = plain(out.grad)
    except NotANumber as exc:
        result["error"] = describe_error(exc, files)
    result["calls"] = calls[: 4 * len(values) + 16]
    return result


def _recording_closure(index, node, children, weights, calls):
    def _backward():
        calls.append(index)
        for child, weight in zip(children, weights):
            child.grad += weight * node.grad
    return _backward


def probe_zero_grad(api: dict, probe: dict, files: tuple) -> dict:
    """The student's `Module.zero_grad` on a module whose parameters hold random grads."""
    Value, Module = api["Value"], api["Module"]
    params = []
    for data, grad in probe["params"]:
        p = Value(data)
        p.grad = grad
        params.append(p)
    module = type("ProbeModule", (Module,), {"parameters": lambda self: list(params)})()
    result: dict = {"where": code_location(getattr(Module, "zero_grad", None))}
    try:
        module.zero_grad()
        result["grads"] = [plain(p.grad) for p in params]
        result["data"] = [plain(p.data) for p in params]
    except BaseException as exc:  # noqa: BLE001
        result["error"] = describe_error(exc, files)
    return result


def probe_train(api: dict, probe: dict, files: tuple) -> dict:
    """The student's `train` on a model built from a known-good kit, so a broken engine costs nothing here."""
    kit = api["kit"]()  # a fresh kit per probe: instrumenting it must not leak into the next probe
    model = kit["MLP"](probe["nin"], probe["nouts"])
    for p, w in zip(model.parameters(), probe["weights"]):
        p.data = w
    events: list[str] = []
    instrument(model, kit, events)
    train = rebind_to_kit(api["train"], api, kit)
    kwargs = {key: probe[key] for key in ("steps", "lr") if key in probe}
    result: dict = {"where": code_location(api["train"])}
    try:
        losses = train(model, [list(x) for x in probe["xs"]], list(probe["ys"]), **kwargs)
        if not isinstance(losses, list | tuple):
            raise NotANumber(f"train returned {'None' if losses is None else type(losses).__name__}, not a list of losses")
        result["losses"] = [plain(loss) for loss in list(losses)[:1000]]
    except BaseException as exc:  # noqa: BLE001
        result["error"] = describe_error(exc, files)
    result["weights"] = [plain(p.data) for p in model.parameters()]
    result["events"] = events[:200]
    return result


def instrument(model, kit, events: list) -> None:
    """Log zero_grad and backward calls, to tell *where* in the loop a step is misplaced."""
    zero_grad = model.zero_grad
    model.zero_grad = lambda: (events.append("zero_grad"), zero_grad())[1]
    backward = kit["Value"].backward

    def logged_backward(self):
        events.append("backward")
        return backward(self)
    kit["Value"].backward = logged_backward


def rebind_to_kit(train, api: dict, kit: dict):
    """The student's `train` with every global naming their engine's classes pointed at the kit's."""
    if not isinstance(train, types.FunctionType):
        return train
    swap = {id(api.get(name)): kit[name] for name in ("Value", "Module", "Neuron", "Layer", "MLP") if api.get(name)}
    globals_ = {key: swap.get(id(value), value) for key, value in train.__globals__.items()}
    rebound = types.FunctionType(train.__code__, globals_, train.__name__, train.__defaults__, train.__closure__)
    rebound.__kwdefaults__ = train.__kwdefaults__
    return rebound


PROBES = {"op": probe_op, "graph": probe_graph, "backward": probe_backward,
          "zero_grad": probe_zero_grad, "train": probe_train}
NEEDS = {"op": ("Value",), "graph": ("Value",), "backward": ("Value",), "zero_grad": ("Value", "Module"),
         "train": ("train", "kit")}


def run_probe(api: dict, probe: dict, files: tuple = ()) -> dict:
    """Run one probe; a missing name or an unexpected failure is reported, never raised."""
    missing = [name for name in NEEDS[probe["kind"]] if api.get(name) is None]
    if missing:
        return {"error": {"kind": "missing", "type": "NameError", "message": f"{missing[0]} is not defined",
                          "where": None}}
    try:
        return PROBES[probe["kind"]](api, probe, files)
    except BaseException as exc:  # noqa: BLE001
        return {"error": describe_error(exc, files)}


def finite(x: float) -> bool:
    return isinstance(x, float) and math.isfinite(x)


def raise_recursion_limit() -> None:
    """The lecture's recursive topological sort must not fail on a deep chain for lack of stack."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
