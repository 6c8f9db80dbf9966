"""How one engine is written, found by trying it rather than assumed.

Runs inside the sandboxed child next to student code (standard library only, and its neighbour
`contract`). People write the lecture's engine under many names: the class may be `Value`, `Tensor` or
`value`; its number `.data` or `.value`; the inputs of a node `_prev`, `_children`, `_parents`, `operands`…;
backpropagation a `backward()` method, a `backprop()` method or a module-level `back_prop(root)`; and a node
passes its gradient on either through a `_backward` closure (the lecture) or through stored local gradients
(microgpt's `_children` + `_local_grads`). The contract's names (grader/contract.py) are tried first. Each
other name is accepted only when an experiment shows it plays that role (the attribute of `a + b` that holds exactly `a` and `b`; the method after which
`a.grad` of `a * b` is `b`), and when two candidates fit equally, discovery says so instead of guessing.
"""
from __future__ import annotations

import numbers

try:
    from grader.contract import ENGINE_NAMES
except ImportError:  # in the sandboxed child, beside contract.py
    from contract import ENGINE_NAMES

# Names people give each role, tried in this order after the contract's.
LIKELY = {
    "data": ("data", "value", "val", "_data", "_value", "v", "x", "item"),
    "grad": ("grad", "gradient", "_grad", "g", "dgrad", "d"),
    "children": ("_prev", "_children", "children", "prev", "_parents", "parents", "operands", "inputs", "_inputs",
                 "came_from", "_creator", "creators", "srcs", "sources", "deps"),
    "closure": ("_backward", "backward_fn", "_backward_fn", "grad_fn", "_grad_fn", "_back"),
    "local_grads": ("_local_grads", "local_grads", "_grads", "partials", "_partials"),
}
CONTAINERS = (set, frozenset, list, tuple)


class ShapeError(Exception):
    """The engine's shape could not be found: what is missing, and what was found instead."""


def is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def attributes(obj) -> dict:
    """An object's own attributes: its __dict__ and every slot of its classes that is set."""
    found = {}
    own = getattr(obj, "__dict__", None)
    if isinstance(own, dict):
        found.update(own)
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            try:
                found.setdefault(slot, getattr(obj, slot))
            except AttributeError:
                pass
    return found


def ranked(names, role: str) -> list[str]:
    """`names` with the likely ones for `role` first, in LIKELY's order, then the rest sorted."""
    likely = [n for n in LIKELY[role] if n in names]
    return likely + sorted(n for n in names if n not in likely)


class Engine:
    """An engine's names, and the few things the probes do to its nodes, whatever the names are."""

    def __init__(self, cls, data, grad, children, container, closure, local_grads, backward, backward_name):
        self.cls, self.data, self.grad, self.children = cls, data, grad, children
        self.container = container          # the type the engine keeps children in
        self.closure = closure              # the closure attribute, or None for stored local gradients
        self.local_grads = local_grads      # the local-gradient attribute, or None for closures
        self.backward = backward            # backward(out): the student's own backpropagation
        self.backward_name = backward_name  # "backward", or "function:back_prop"

    def names(self) -> dict:
        return {"value_class": self.cls.__name__, "data": self.data, "grad": self.grad, "children": self.children,
                "closure": self.closure, "local_grads": self.local_grads, "backward": self.backward_name,
                "style": "closures" if self.closure else "local_grads"}

    def leaf(self, x):
        return self.cls(x)

    def data_of(self, node):
        return getattr(node, self.data)

    def grad_of(self, node):
        return getattr(node, self.grad)

    def set_grad(self, node, g) -> None:
        setattr(node, self.grad, g)

    def children_of(self, node) -> list:
        kids = getattr(node, self.children, ()) or ()
        return list(kids) if isinstance(kids, CONTAINERS) else []

    def step_of(self, node):
        """What passes this node's gradient to its children: its closure, or the stored local gradients."""
        if self.closure:
            return getattr(node, self.closure, None)
        return None

    def step(self, node) -> None:
        """Pass one node's gradient on to its children, the way this engine does it."""
        if self.closure:
            # A leaf may have no closure at all; an inner node's must be callable (calling a stored None
            # raises, as it would in the student's own backward).
            closure = getattr(node, self.closure, None)
            if closure is not None or self.children_of(node):
                closure()
            return
        g = self.grad_of(node)
        for child, local in zip(self.children_of(node), getattr(node, self.local_grads, ()) or ()):
            self.set_grad(child, self.grad_of(child) + local * g)

    def make_node(self, data, children: list, step, weights: list):
        """A node of the probes' own graphs: the engine's class, our children (in the engine's sort of
        container, iterated in a fixed order so the same engine always walks them the same way) and our way
        of passing the gradient on."""
        node = self.cls(data)
        container = {set: OrderedSet, frozenset: OrderedFrozenSet}.get(self.container, self.container)
        setattr(node, self.children, container(children))
        if self.closure:
            setattr(node, self.closure, step)
        else:
            setattr(node, self.local_grads, Recorded(weights, step))
        return node


class OrderedSet(set):
    """A set that iterates in the order its items were given (a plain set follows memory addresses)."""

    def __init__(self, items=()):
        items = list(items)
        super().__init__(items)
        self.order = list(dict.fromkeys(items))

    def __iter__(self):
        return iter([x for x in self.order if x in self] + [x for x in set.__iter__(self) if x not in self.order])


class OrderedFrozenSet(frozenset):
    """A frozenset that iterates in the order its items were given."""

    def __new__(cls, items=()):
        items = list(items)
        self = super().__new__(cls, items)
        self.order = list(dict.fromkeys(items))
        return self

    def __iter__(self):
        return iter(self.order)


class Recorded(tuple):
    """Local gradients that note when backpropagation reads them, so the order of the pass is seen for
    engines without closures."""

    def __new__(cls, weights, on_read):
        self = super().__new__(cls, weights)
        self.on_read = on_read
        return self

    def __iter__(self):
        self.on_read()
        return super().__iter__()


def discover(candidates: list, functions: dict, strict: bool = False) -> tuple[Engine, list[str]]:
    """The engine among candidate classes (the contract's `Value` first) and how it is written, with the
    ambiguities met. `functions` are the submission's module-level functions, for a backward written as
    one. With `strict`, only the contract's names are accepted; ShapeError says what was found instead."""
    problems = []
    for cls in candidates:
        try:
            return probe_class(cls, functions, strict)
        except ShapeError as exc:
            problems.append(f"{cls.__name__}: {exc}")
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything while we try it
            problems.append(f"{cls.__name__}: {type(exc).__name__}: {str(exc)[:200]}")
    raise ShapeError("; ".join(problems) if problems else "no class whose instances support + and *")


def probe_class(cls, functions: dict, strict: bool) -> tuple[Engine, list[str]]:
    """The engine's names, from a leaf and from every op node that can be built. A name is taken from the
    leaf when the contract's is there (a leaf of the lecture's Value already has `_prev` and `_backward`),
    else from the nodes, where one op's bug (a detached output, a closure stored as None) is outvoted by
    the ops that work."""
    ambiguous: list[str] = []
    a, b = cls(1.5), cls(-2.25)
    data = find_role(a, "data", lambda v: is_number(v) and v == 1.5, strict, ambiguous)
    grad = find_role(a, "grad", lambda v: is_number(v) and v == 0 and not isinstance(v, bool), strict, ambiguous,
                     exclude={data})
    nodes = op_nodes(a, b, data)
    if not nodes and cls.__name__ != ENGINE_NAMES["value_class"]:
        raise ShapeError("none of a + b, a * b, a ** 2, exp, tanh or relu gives a node holding a number")
    prev, backward_closure = ENGINE_NAMES["children"], ENGINE_NAMES["closure"]
    children = prev if isinstance(getattr(a, prev, None), CONTAINERS) or not nodes \
        else voted(nodes, "children", lambda v, inputs: isinstance(v, CONTAINERS) and len(v) == len(inputs)
                   and all(any(x is given for x in v) for given in inputs), strict, ambiguous)
    container = type(getattr(a, children, None) or next((getattr(n, children) for n, _ in nodes
                                                          if isinstance(getattr(n, children, None), CONTAINERS)), ()))
    container = container if container in CONTAINERS else set
    closure = backward_closure if hasattr(a, backward_closure) or not nodes else \
        voted(nodes, "closure", lambda v, inputs: callable(v), strict, [], optional=True)
    if closure is None and not strict:
        closure = closure_by_experiment(nodes, grad, {data, grad, children}, ambiguous)
    local_grads = None
    if closure is None:
        local_grads = voted(nodes, "local_grads", lambda v, inputs: isinstance(v, (list, tuple))
                            and len(v) == len(inputs) and all(map(is_number, v)), strict, ambiguous,
                            what="a `_backward` closure or stored local gradients")
    engine = Engine(cls, data, grad, children, container, closure, local_grads, None, None)
    engine.backward, engine.backward_name = find_backward(engine, functions, strict, ambiguous)
    return engine, ambiguous


def closure_by_experiment(nodes: list, grad: str, taken: set, ambiguous: list) -> str | None:
    """A backward closure under a name of the author's (`_backprop`, `chain`…): the callable attribute of
    the op nodes that, called with no arguments after the output's gradient is set, changes an input's
    gradient."""
    votes: dict[str, int] = {}
    for node, inputs in nodes:
        for name, value in attributes(node).items():
            if name in taken or not callable(value) or isinstance(value, type):
                continue
            try:
                for x in inputs:
                    setattr(x, grad, 0.0)
                setattr(node, grad, 1.0)
                value()
                moved = any(getattr(x, grad) != 0.0 for x in inputs)
            except BaseException:  # noqa: BLE001, S112 - not a closure that passes a gradient on
                continue
            if moved:
                votes[name] = votes.get(name, 0) + 1
    if not votes:
        return None
    best = max(votes.values())
    top = sorted(n for n, v in votes.items() if v == best)
    if len(top) > 1:
        ambiguous.append(f"closure: {', '.join(f'`{n}`' for n in top)} all fit; used `{top[0]}`")
    return top[0]


def op_nodes(a, b, data: str, enough: int = 2) -> list[tuple[object, tuple]]:
    """The first `enough` op nodes that can be built among a + b, a * b, a ** 2, exp, tanh and relu, with
    their inputs. Only as many ops run as needed: one that hangs costs its own probes, not the load."""
    attempts = [(lambda: a + b, (a, b)), (lambda: a * b, (a, b)), (lambda: a ** 2, (a,)),
                (lambda: a.exp(), (a,)), (lambda: a.tanh(), (a,)), (lambda: a.relu(), (a,))]
    nodes = []
    for build, inputs in attempts:
        try:
            node = build()
        except BaseException:  # noqa: BLE001, S112 - an op not written yet, or broken: the others decide
            continue
        if isinstance(node, type(a)) and is_number(getattr(node, data, None)):
            nodes.append((node, inputs))
            if len(nodes) == enough:
                break
    return nodes


def voted(nodes: list, role: str, fits, strict: bool, ambiguous: list, optional: bool = False,
          what: str | None = None) -> str | None:
    """The attribute that plays `role` on the most op nodes (the contract's name wins a tie)."""
    contract = ENGINE_NAMES.get(role)
    votes: dict[str, int] = {}
    for node, inputs in nodes:
        own = attributes(node)
        if contract and contract not in own and hasattr(node, contract):
            own[contract] = getattr(node, contract)
        for name, value in own.items():
            if (not strict or name == contract) and (not optional or name in LIKELY[role]) and fits(value, inputs):
                votes[name] = votes.get(name, 0) + 1
    if not votes:
        if optional:
            return None
        found = [n for n in attributes(nodes[0][0])] if nodes else []
        raise ShapeError(f"no {what or f'`{contract or LIKELY[role][0]}`'}"
                         + (f"; found {', '.join(f'`{n}`' for n in ranked(found, role)[:6])} instead" if strict and found
                            else ""))
    best = max(votes.values())
    top = ranked([n for n, v in votes.items() if v == best], role)
    if contract in top:
        return contract
    likely = [n for n in top if n in LIKELY[role]]
    if len(top) > 1 and len(likely) != 1:
        ambiguous.append(f"{role}: {', '.join(f'`{n}`' for n in top)} all fit; used `{top[0]}`")
    return likely[0] if len(likely) == 1 else top[0]


def find_role(node, role: str, fits, strict: bool, ambiguous: list, exclude=(), what: str | None = None) -> str:
    """The attribute of `node` that plays `role`: the contract's name when it fits, else the one other
    attribute that does (the likeliest name first when several do, noted as ambiguous)."""
    contract = ENGINE_NAMES.get(role)
    if contract and fits(getattr(node, contract, None)):
        return contract
    found = [name for name, value in attributes(node).items() if name not in exclude and fits(value)]
    if strict or not found:
        instead = f"; found {', '.join(f'`{n}`' for n in ranked(found, role))} instead" if found else ""
        raise ShapeError(f"no {what or f'`{contract or LIKELY[role][0]}`'}{instead}")
    choices = ranked(found, role)
    likely = [n for n in choices if n in LIKELY[role]]
    if len(choices) > 1 and len(likely) != 1:
        ambiguous.append(f"{role}: {', '.join(f'`{n}`' for n in choices)} all fit; used `{choices[0]}`")
    return choices[0]


def find_backward(engine: Engine, functions: dict, strict: bool, ambiguous: list):
    """The student's backpropagation: the contract's method, else a method or module-level function
    named for it that, run on a * b, leaves a.grad = b."""
    backward = ENGINE_NAMES["backward"]
    if callable(getattr(engine.cls, backward, None)):
        return (lambda out: getattr(out, backward)()), backward
    if strict:
        raise ShapeError(f"no `{backward}` method")
    candidates = [(name, "method") for name in sorted(vars(engine.cls)) if "back" in name.lower()
                  and name != engine.closure and callable(getattr(engine.cls, name))]
    candidates += [(name, "function") for name, fn in sorted(functions.items()) if "back" in name.lower()
                   and callable(fn) and not isinstance(fn, type)]
    working = []
    for name, via in candidates:
        run = (lambda out, name=name: getattr(out, name)()) if via == "method" else functions[name]
        working.append((backpropagates(engine, run), name, via, run))
    if not working:
        raise ShapeError("no backward: no method or function named like `backward`")
    # One that backpropagates a * b right wins; a wrong one is still the student's backward, graded as such.
    best = [w for w in working if w[0]] or working
    if len(best) > 1:
        ambiguous.append("backward: " + ", ".join(f"`{n}`" for _, n, _, _ in best) + f" all fit; used "
                         f"`{best[0][1]}`")
    _, name, via, run = best[0]
    return run, name if via == "method" else f"function:{name}"


def backpropagates(engine: Engine, run) -> bool:
    """Whether `run(out)` backpropagates a * b (or, where mul does not work, a + b)."""
    for build, want in ((lambda a, b: a * b, (-2.25, 1.5)), (lambda a, b: a + b, (1.0, 1.0))):
        try:
            a, b = engine.leaf(1.5), engine.leaf(-2.25)
            run(build(a, b))
            if (engine.grad_of(a), engine.grad_of(b)) == want:
                return True
        except BaseException:  # noqa: BLE001, S112 - not this way; try the other op
            continue
    return False
