"""Evaluate one probe against an engine and return plain JSON data (floats, bools, short strings).

This module runs inside the sandboxed child next to student code, so it imports nothing but the standard
library (and its neighbours, `protocol`, `contract` and `shape`) and never returns a student object: every number
goes through `plain`. The engine is reached through its discovered shape (`api["engine"]`, see shape.py),
and every op through the probe's own `apply` table, so no name of the template is assumed here. Errors
raised by student code are caught per probe and described (kind, type, message, innermost student frame),
so one broken method costs only the probes that use it.
"""
from __future__ import annotations

import math
import numbers
import operator
import sys
import traceback
import types

try:
    from grader import contract, protocol
except ImportError:  # in the sandboxed child, beside protocol.py and contract.py
    import contract
    import protocol

H = 1e-6  # central finite-difference step, as in torch.autograd.gradcheck


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
    kind = protocol.NOT_STARTED if isinstance(exc, NotImplementedError) else protocol.CRASH
    if isinstance(exc, NotANumber):
        kind = protocol.NOT_A_NUMBER
    described = {"kind": kind, "type": type(exc).__name__, "message": str(exc)[:protocol.MAX_TEXT], "where": where}
    # The name an undefined name or a failed import is about, so the grader never reads it out of the message.
    name = getattr(exc, "name", None) if isinstance(exc, NameError | ImportError | AttributeError) else None
    if isinstance(name, str):
        described["name"] = name[:protocol.MAX_TEXT]
    return described


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

def applier(probe: dict):
    """apply(op, args) for the ops of this probe, as a student's code would reach them."""
    table = {op: getattr(operator, name) if via == "operator" else method_caller(name)
             for op, (via, name) in probe["apply"].items()}
    return lambda op, args: table[op](*args)


def method_caller(name: str):
    return lambda x, *rest: getattr(x, name)(*rest)


def resolve(spec: dict, leaves: list, nodes: list):
    if "leaf" in spec:
        return leaves[spec["leaf"]]
    if "node" in spec:
        return nodes[spec["node"]]
    return spec["const"]


def reachable(engine, out, leaves: list) -> list[bool]:
    """Whether each leaf can be reached from `out` through its children (directly, or through the inner
    nodes of an op built from other ops)."""
    seen, stack, found = set(), [out], set()
    targets = {id(leaf) for leaf in leaves}
    while stack and len(seen) < 10_000:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in targets and node is not out:
            found.add(id(node))
        stack.extend(engine.children_of(node))
    return [id(leaf) in found for leaf in leaves]


def trusted_backward(engine, out, seed: float, known: list = ()) -> None:
    """Backpropagate through the engine's children in a known-good order, so op probes never depend on the
    student's own `backward()` (graded as a part of its own). Children are often kept in sets, whose
    iteration order follows memory addresses; they are taken in a fixed order instead (the nodes the probe
    built, in `known`, by position, then the engine's own by value), so the same engine always gets the
    same report."""
    rank = {id(node): i for i, node in enumerate(known)}
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            children = engine.children_of(node)
            children.sort(key=lambda child: (rank.get(id(child), len(rank)), sort_value(engine, child)), reverse=True)
            stack.extend((child, False) for child in children)
    engine.set_grad(out, seed)
    for node in reversed(order):
        engine.step(node)


def sort_value(engine, node) -> float:
    """A key for a node the probe did not build: its value, or 0 when it is not plain."""
    try:
        return plain(engine.data_of(node))
    except BaseException:  # noqa: BLE001 - any student object is allowed here
        return 0.0


class Observer:
    """Notes which ops' methods run while an expression is built, so the judge blames a composite op on
    the ops it really uses (and in the form it uses them: `__mul__` or `__rmul__`). It wraps the engine
    class's methods for the duration of one build."""

    def __init__(self, cls, methods: dict[str, str]):
        self.cls, self.methods, self.calls, self.saved = cls, methods, [], []

    def __enter__(self):
        for name in self.methods:
            original = getattr(self.cls, name, None)
            if not callable(original):
                continue
            saved = self.cls.__dict__.get(name, _ABSENT)
            try:
                setattr(self.cls, name, self.wrap(original, name))
            except BaseException:  # noqa: BLE001, S112 - a class that refuses is simply not observed
                continue
            self.saved.append((name, saved))
        return self

    def wrap(self, method, name):
        calls = self.calls

        def observed(*args, **kwargs):
            calls.append(name)
            return method(*args, **kwargs)
        return observed

    def seen(self, own: str) -> list[str]:
        """The methods that ran while the case was built, but the case's own."""
        return sorted(set(self.calls[1:]) - {own})

    def __exit__(self, *exc):
        for name, original in reversed(self.saved):
            if original is _ABSENT:
                delattr(self.cls, name)
            else:
                setattr(self.cls, name, original)
        return False


_ABSENT = object()


# ----------------------------------------------------------------------------------------------
# Probe kinds. Each takes the engine's names and the probe's parameters and returns plain data.

def probe_op(api: dict, probe: dict, files: tuple) -> dict:
    """One op on leaves (or plain numbers): forward value, the ops it ran, links, gradients, finite
    differences."""
    engine = api["engine"]
    apply = applier(probe)
    result: dict = {"method": probe["method"], "has_method": hasattr(engine.cls, probe["method"])}
    result["method_where"] = code_location(getattr(engine.cls, probe["method"], None))

    def build(values):
        leaves = [engine.leaf(v) for v in values]
        return leaves, apply(probe["op"], [resolve(spec, leaves, []) for spec in probe["operands"]])

    observer = Observer(engine.cls, probe.get("observe", {}))
    try:
        with observer:
            leaves, out = build(probe["leaves"])
    except BaseException as exc:  # noqa: BLE001 - any failure of student code is a finding
        return {**result, "calls": observer.seen(probe["method"]), "stage": "forward",
                "error": describe_error(exc, files)}
    result["calls"] = observer.seen(probe["method"])
    result["is_value"] = isinstance(out, engine.cls)
    if not result["is_value"]:
        result["returned"] = type(out).__name__
        return result
    try:
        result["data"] = plain(engine.data_of(out))
    except NotANumber as exc:
        return {**result, "stage": "forward", "error": describe_error(exc, files)}
    if probe.get("check") == "number" and "const" in probe["operands"][0]:
        result["swapped"] = swapped_value(engine, apply, probe)
    result["linked"] = reachable(engine, out, leaves)
    step = engine.step_of(out)
    result["backward_callable"] = callable(step) if engine.closure else True
    result["backward_where"] = code_location(step)
    try:
        for leaf, pre in zip(leaves, probe.get("pre") or [0.0] * len(leaves)):
            engine.set_grad(leaf, pre)
        trusted_backward(engine, out, probe["g"], leaves)
        result["grads"] = [plain(engine.grad_of(leaf)) for leaf in leaves]
        result["out_grad"] = plain(engine.grad_of(out))  # changed by a closure that adds into the wrong node
    except BaseException as exc:  # noqa: BLE001
        result["stage"] = "backward"
        result["error"] = describe_error(exc, files)
    result["fd"] = finite_differences(engine, build, probe["leaves"])
    return result


def swapped_value(engine, apply, probe: dict) -> float | None:
    """`a OP 2` for the case `2 OP a`: a reflected method that swapped its operands gives this instead."""
    try:
        leaf = engine.leaf(probe["leaves"][0])
        return plain(engine.data_of(apply(probe["op"], [leaf, probe["operands"][0]["const"]])))
    except BaseException:  # noqa: BLE001 - the unreflected form may be broken too; then nothing to compare
        return None


def finite_differences(engine, build, values: list) -> list | None:
    """Forward values at x ± h for each leaf: the grader turns them into central differences."""
    pairs = []
    try:
        for i in range(len(values)):
            sides = []
            for step in (H, -H):
                shifted = list(values)
                shifted[i] += step
                sides.append(plain(engine.data_of(build(shifted)[1])))
            pairs.append(sides)
    except BaseException:  # noqa: BLE001 - no estimate then; the forward checks report the failure
        return None
    return pairs


def probe_graph(api: dict, probe: dict, files: tuple) -> dict:
    """A whole expression graph of ops, backpropagated by `trusted_backward`."""
    engine = api["engine"]
    apply = applier(probe)

    def build(values):
        leaves = [engine.leaf(v) for v in values]
        nodes = []
        for op, *operands in probe["nodes"]:
            build.failed_at = len(nodes)
            nodes.append(apply(op, [resolve(spec, leaves, nodes) for spec in operands]))
        return leaves, nodes

    build.failed_at = 0
    try:
        leaves, nodes = build(probe["leaves"])
        data = [plain(engine.data_of(node)) for node in nodes]
    except BaseException as exc:  # noqa: BLE001
        return {"stage": "forward", "node": build.failed_at, "error": describe_error(exc, files)}
    result: dict = {"data": data}
    try:
        trusted_backward(engine, nodes[-1], 1.0, leaves + nodes)
        result["leaf_grads"] = [plain(engine.grad_of(leaf)) for leaf in leaves]
        result["node_grads"] = [plain(engine.grad_of(node)) for node in nodes]
    except BaseException as exc:  # noqa: BLE001
        result["stage"] = "backward"
        result["error"] = describe_error(exc, files)
    result["fd"] = finite_differences(engine, lambda vals: last_node(*build(vals)), probe["leaves"])
    return result


def last_node(leaves: list, nodes: list) -> tuple:
    """A built graph as `finite_differences` reads it: the leaves, and the last node as the output."""
    return leaves, nodes[-1]


def probe_backward(api: dict, probe: dict, files: tuple) -> dict:
    """The student's backward over nodes whose gradient passing is ours: grads, the order of the calls."""
    engine = api["engine"]
    calls: list[int] = []
    values: list = []
    specs = probe["nodes"] if "nodes" in probe else protocol.chain_nodes(probe["chain"])
    for index, spec in enumerate(specs):
        children = [values[c] for c in spec["children"]]
        holder = []
        step = _recording_step(index, holder, children, spec["weights"], calls, engine)
        node = engine.make_node(spec["data"], children, step if engine.closure else (lambda i=index: calls.append(i)),
                                spec["weights"])
        holder.append(node)
        values.append(node)
    out = values[-1]
    result: dict = {}
    try:
        engine.backward(out)
    except BaseException as exc:  # noqa: BLE001
        result["error"] = describe_error(exc, files)
    result["where"] = api.get("backward_where")
    try:
        result["grads"] = [plain(engine.grad_of(v)) for v in values] if len(values) <= 64 else \
            [plain(engine.grad_of(values[0]))]
        result["out_grad"] = plain(engine.grad_of(out))
    except NotANumber as exc:
        result["error"] = describe_error(exc, files)
    result["calls"] = calls[: 4 * len(values) + 16]
    return result


def _recording_step(index, holder, children, weights, calls, engine):
    def _backward():
        calls.append(index)
        g = engine.grad_of(holder[0])
        for child, weight in zip(children, weights):
            engine.set_grad(child, engine.grad_of(child) + weight * g)
    return _backward


def probe_zero_grad(api: dict, probe: dict, files: tuple) -> dict:
    """The student's `Module.zero_grad` on a Module subclass whose parameters hold random grads."""
    engine, Module = api["engine"], api["Module"]
    params = []
    for data, grad in probe["params"]:
        p = engine.leaf(data)
        engine.set_grad(p, grad)
        params.append(p)
    module = type("ProbeModule", (Module,), {"parameters": lambda self: list(params)})()
    result: dict = {"where": code_location(getattr(Module, "zero_grad", None))}
    try:
        module.zero_grad()
        result["grads"] = [plain(engine.grad_of(p)) for p in params]
        result["data"] = [plain(engine.data_of(p)) for p in params]
    except BaseException as exc:  # noqa: BLE001
        result["error"] = describe_error(exc, files)
    return result


def probe_zero_grad_nn(api: dict, probe: dict, files: tuple) -> dict:
    """`zero_grad()` on the student's own MLP, Layer and Neuron, every parameter they list holding a
    gradient: an override that forgets a parameter, or a Module that recurses into its children, is judged
    as the student wrote it."""
    engine = api["engine"]
    builds = [("MLP", (probe["nin"], list(probe["nouts"]))), ("Layer", (probe["nin"], 2)), ("Neuron", (probe["nin"],))]
    models = []
    for name, args in builds:
        try:
            model = api[name](*args)
            params = list(model.parameters())
            for i, p in enumerate(params):
                setattr(p, engine.data, probe["values"][i % len(probe["values"])])
        except BaseException as exc:  # noqa: BLE001 - the given nn code around zero_grad does not work
            return {"error": describe_error(exc, files), "stage": "build"}
        for i, p in enumerate(params):
            engine.set_grad(p, probe["grads"][i % len(probe["grads"])] * (1 + i / 10))
        reset = model.zero_grad
        where = code_location(getattr(type(model), "zero_grad", None))
        try:
            reset()
            models.append({"name": name, "grads": [plain(engine.grad_of(p)) for p in params],
                           "data": [plain(engine.data_of(p)) for p in params], "where": where})
        except BaseException as exc:  # noqa: BLE001
            return {"error": describe_error(exc, files), "where": where}
    return {"models": models}


def probe_train(api: dict, probe: dict, files: tuple) -> dict:
    """The student's `train` on a model built from a known-good kit, so a broken engine costs nothing here."""
    kit = api["kit"]()  # a fresh kit per probe: instrumenting it must not leak into the next probe
    engine = api.get("engine")
    if engine is not None:
        alias_kit(kit, engine)
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


def alias_kit(kit: dict, engine) -> None:
    """Give the kit's Value the engine's own names for its number, gradient and backward, so a loop
    written for that engine runs on the kit unchanged."""
    value = kit["Value"]
    for own, contract in ((engine.data, "data"), (engine.grad, "grad")):
        if own != contract:
            setattr(value, own, property(lambda self, c=contract: getattr(self, c),
                                         lambda self, v, c=contract: setattr(self, c, v)))
    if engine.backward_name and not engine.backward_name.startswith("function:") and engine.backward_name != "backward":
        setattr(value, engine.backward_name, value.backward)


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
    """The student's `train` with every global naming their engine's classes (or their module-level
    backward) pointed at the kit's."""
    if not isinstance(train, types.FunctionType):
        return train
    swap = {id(api.get(name)): kit[name] for name in contract.MODEL_CLASSES if api.get(name)}
    engine = api.get("engine")
    if engine is not None:
        swap[id(engine.cls)] = kit["Value"]
        if engine.backward_name and engine.backward_name.startswith("function:"):
            function = api.get("functions", {}).get(engine.backward_name.split(":", 1)[1])
            swap[id(function)] = lambda out: out.backward()
    globals_ = {key: swap.get(id(value), value) for key, value in train.__globals__.items()}
    # Helpers of the same module that train calls (a loss function, say) see the kit too.
    for key, value in list(globals_.items()):
        if isinstance(value, types.FunctionType) and value.__globals__ is train.__globals__:
            globals_[key] = rebound_function(value, globals_)
    return rebound_function(train, globals_)


def rebound_function(function, globals_: dict):
    rebound = types.FunctionType(function.__code__, globals_, function.__name__, function.__defaults__,
                                 function.__closure__)
    rebound.__kwdefaults__ = function.__kwdefaults__
    return rebound


PROBES = {"op": probe_op, "graph": probe_graph, "backward": probe_backward, "zero_grad": probe_zero_grad,
          "zero_grad_nn": probe_zero_grad_nn, "train": probe_train}
NEEDS = {"op": ("engine",), "graph": ("engine",), "backward": ("engine",), "zero_grad": ("engine", "Module"),
         "zero_grad_nn": ("engine", "MLP", "Layer", "Neuron"), "train": ("train", "kit")}
CONTRACT_NAMES = {"engine": contract.VALUE}


def run_probe(api: dict, probe: dict, files: tuple = ()) -> dict:
    """Run one probe; a missing name or an unexpected failure is reported, never raised."""
    missing = [name for name in NEEDS[probe["kind"]] if api.get(name) is None]
    if missing:
        name = CONTRACT_NAMES.get(missing[0], missing[0])
        why = api.get("shape_problem") if missing[0] == "engine" else None
        answer = protocol.error(protocol.MISSING, "NameError", why or f"{name} is not defined")
        answer["error"]["name"] = name
        return answer
    try:
        return PROBES[probe["kind"]](api, probe, files)
    except BaseException as exc:  # noqa: BLE001
        return {"error": describe_error(exc, files)}


def raise_recursion_limit() -> None:
    """The lecture's recursive topological sort must not fail on a deep chain for lack of stack."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
