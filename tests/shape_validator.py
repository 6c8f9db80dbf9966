"""Check engines of any shape against the math, using the names each one declares (no discovery).

A shape is a complete single-file submission whose engine keeps its pieces under other names than the
template's (tests/corpus/shapes.toml says which: the value class, children, data, grad, backward and the
backpropagation style). This validator is independent of the grader: every op's gradient is compared with
a central finite difference of the same expression on plain floats, backward() runs on a diamond and on a
2,500-deep chain, zero_grad() is tried on the submission's own Neuron, Layer and MLP with every parameter
(found by walking their attributes, not through parameters()) holding a random gradient, and train() must
give the losses of the reference engine (reference/micrograd, loaded by path) from the same parameters.

Standard library only, meant to run in a subprocess of its own:

    python shape_validator.py JOBS.json

where JOBS.json is a list of {"key", "path", "names"}; the results, {key: result}, are printed as JSON
after a marker line. A result is {"load": error or null, "script": error or null (running the whole file,
exploration included), "names": [problems with the declared names], "children_container": the type name of
a + b's children, "cases": [{"part", "case", "ok", "kind", "repeated", "detail"}]}; a failing case's `kind`
is one of "crash", "not_a_value", "forward", "disconnected", "gradient", "kept_grad", "changed_data",
"parameters_incomplete", "losses", "parameters".
"""
from __future__ import annotations
import __future__

import ast
import contextlib
import functools
import io
import json
import math
import operator
import random
import signal
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
REFERENCE_DIR = TESTS_DIR.parent / "reference"
sys.path.insert(0, str(TESTS_DIR))

from corpus_tools import LECTURE_XS, LECTURE_YS, definitions

MARKER = "@@shape-validator-results@@"
STEP = 1e-6            # the central difference's h
RELATIVE_TOLERANCE = 1e-5
CHAIN_DEPTH = 2_500
CASE_SECONDS = 10


# ------------------------------------------------------------------------------------------------ loading

_TOLERATED = {ast.Import: (ImportError,), ast.ImportFrom: (ImportError,),
              ast.Assign: (NameError, AttributeError, TypeError, ArithmeticError, LookupError),
              ast.AnnAssign: (NameError, AttributeError, TypeError, ArithmeticError, LookupError)}


def load_definitions(path: Path) -> dict:
    """The namespace the grader's loader gives a single file: its imports, classes, functions and
    assignments that call nothing, run one by one (a failing import or assignment costs only itself) under
    every `from __future__` flag the file sets, as if compiled as one module."""
    namespace: dict = {"__name__": "submission", "__file__": str(path)}
    flags = 0
    with contextlib.redirect_stdout(io.StringIO()):
        for node, name in definitions(path):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                flags |= functools.reduce(operator.or_, (getattr(__future__, a.name).compiler_flag
                                                         for a in node.names), 0)
            # dont_inherit: this file's own `from __future__ import annotations` must not leak into theirs
            code = compile(ast.Module([node], []), name, "exec", flags=flags, dont_inherit=True)
            try:
                exec(code, namespace)  # noqa: S102 - our own corpus files
            except _TOLERATED.get(type(node), ()):
                pass
    return namespace


def run_as_script(path: Path) -> None:
    """Execute the whole file, exploration included (its output is thrown away); raises what it raises."""
    source = Path(path).read_text(encoding="utf-8")
    code = compile(source, str(path), "exec", dont_inherit=True)
    namespace: dict = {"__name__": "exploration", "__file__": str(path)}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, namespace)  # noqa: S102


class Engine:
    """The submission's engine, reached through the names it declares."""

    def __init__(self, namespace: dict, names: dict):
        self.namespace = namespace
        self.names = names
        self.value_class = namespace[names["value_class"]]

    def leaf(self, x: float):
        return self.value_class(x)

    def data(self, v) -> float:
        return getattr(v, self.names["data"])

    def set_data(self, v, x: float) -> None:
        setattr(v, self.names["data"], x)

    def grad(self, v) -> float:
        return getattr(v, self.names["grad"])

    def set_grad(self, v, g: float) -> None:
        setattr(v, self.names["grad"], g)

    def children(self, v):
        return getattr(v, self.names["children"])

    def backward(self, out) -> None:
        backward = self.names["backward"]
        if backward.startswith("function:"):
            self.namespace[backward.split(":", 1)[1]](out)
        else:
            getattr(out, backward)()


# ----------------------------------------------------------------------------- expressions on both kinds

def _is_number(x) -> bool:
    return isinstance(x, (int, float))


def exp(x):
    return math.exp(x) if _is_number(x) else x.exp()


def tanh(x):
    return math.tanh(x) if _is_number(x) else x.tanh()


def relu(x):
    return max(0.0, x) if _is_number(x) else x.relu()


def log(x):
    return math.log(x) if _is_number(x) else x.log()


def _chain(a):
    """a through 2,500 multiply-adds: deep enough to break a recursion that needs more than the limit."""
    x = a
    for _ in range(CHAIN_DEPTH):
        x = x * 1.0001 + 0.0001
    return x


def _diamond(a, b):
    c = a + b
    d = a * c
    e = d * c + d
    return e * e


def _shared(a, b):
    c = a * b
    return c * c + c


# (part, case name, expression, inputs, repeated): `repeated` marks an expression in which a value feeds
# the op under test twice or also feeds another node, so only an accumulating backward gets it right.
# A case like op(a*1.0) gives the op an inner node as input: only there does an op that builds its output
# without children show (a leaf input still gets its gradient from the op's own closure).
# The cases of an op beyond the contract (log) run only on an engine whose class has it.
OP_CASES = [
    ("add", "a+b", lambda a, b: a + b, (1.3, -0.7), False),
    ("add", "a+a", lambda a: a + a, (1.5,), True),
    ("add", "a+2.0", lambda a: a + 2.0, (1.5,), False),
    ("add", "2.0+a", lambda a: 2.0 + a, (1.5,), False),
    ("add", "(a+b)+a", lambda a, b: (a + b) + a, (1.3, -0.7), True),
    ("add", "(a*1.0)+(b*1.0)", lambda a, b: (a * 1.0) + (b * 1.0), (1.3, -0.7), False),
    ("mul", "a*b", lambda a, b: a * b, (1.3, -0.7), False),
    ("mul", "a*a", lambda a: a * a, (1.5,), True),
    ("mul", "a*2.0", lambda a: a * 2.0, (1.5,), False),
    ("mul", "3.0*a", lambda a: 3.0 * a, (1.5,), False),
    ("mul", "(a*b)*a", lambda a, b: (a * b) * a, (1.3, -0.7), True),
    ("mul", "(a+0.0)*(b+0.0)", lambda a, b: (a + 0.0) * (b + 0.0), (1.3, -0.7), False),
    ("pow", "a**3", lambda a: a**3, (1.2,), False),
    ("pow", "a**2", lambda a: a**2, (-0.9,), False),
    ("pow", "a**0.5", lambda a: a**0.5, (1.6,), False),
    ("pow", "a**3*b", lambda a, b: a**3 * b, (1.2, -1.7), False),
    ("pow", "a**3+a", lambda a: a**3 + a, (1.2,), True),
    ("pow", "(a*1.0)**3", lambda a: (a * 1.0)**3, (1.2,), False),
    ("exp", "exp(a)", lambda a: exp(a), (0.8,), False),
    ("exp", "exp(-a)", lambda a: exp(a), (-0.6,), False),
    ("exp", "exp(a)*b", lambda a, b: exp(a) * b, (0.8, -1.7), False),
    ("exp", "exp(a)+a", lambda a: exp(a) + a, (0.8,), True),
    ("exp", "exp(a*1.0)", lambda a: exp(a * 1.0), (0.8,), False),
    ("tanh", "tanh(a)", lambda a: tanh(a), (0.8,), False),
    ("tanh", "tanh(-a)", lambda a: tanh(a), (-0.6,), False),
    ("tanh", "tanh(a)*b", lambda a, b: tanh(a) * b, (0.8, -1.7), False),
    ("tanh", "tanh(a)+a", lambda a: tanh(a) + a, (0.8,), True),
    ("tanh", "tanh(a*1.0)", lambda a: tanh(a * 1.0), (0.8,), False),
    ("relu", "relu(a)", lambda a: relu(a), (1.3,), False),
    ("relu", "relu(-a)", lambda a: relu(a), (-0.7,), False),
    ("relu", "relu(a)*b", lambda a, b: relu(a) * b, (1.3, -1.7), False),
    ("relu", "relu(a)+a", lambda a: relu(a) + a, (1.3,), True),
    ("relu", "relu(a*1.0)", lambda a: relu(a * 1.0), (1.3,), False),
    ("neg", "-a", lambda a: -a, (1.5,), False),
    ("neg", "(-a)*b", lambda a, b: (-a) * b, (1.3, -0.7), False),
    ("neg", "-a+a*a", lambda a: -a + a * a, (1.3,), True),
    ("neg", "-(a*1.0)", lambda a: -(a * 1.0), (1.5,), False),
    ("sub", "a-b", lambda a, b: a - b, (1.3, -0.7), False),
    ("sub", "a-1.0", lambda a: a - 1.0, (1.5,), False),
    ("sub", "2.0-a", lambda a: 2.0 - a, (1.5,), False),
    ("sub", "(a-b)*a", lambda a, b: (a - b) * a, (1.3, -0.7), True),
    ("sub", "(a*1.0)-(b*1.0)", lambda a, b: (a * 1.0) - (b * 1.0), (1.3, -0.7), False),
    ("div", "a/b", lambda a, b: a / b, (1.3, -0.7), False),
    ("div", "a/2.0", lambda a: a / 2.0, (1.5,), False),
    ("div", "2/a", lambda a: 2 / a, (1.5,), False),
    ("div", "(a/b)*a", lambda a, b: (a / b) * a, (1.3, -0.7), True),
    ("div", "(a*1.0)/(b*1.0)", lambda a, b: (a * 1.0) / (b * 1.0), (1.3, -0.7), False),
    ("log", "log(a)", lambda a: log(a), (1.7,), False),
    ("log", "log(a)*b", lambda a, b: log(a) * b, (0.6, -1.7), False),
    ("log", "log(a)+a", lambda a: log(a) + a, (1.7,), True),
    ("log", "log(a*1.0)", lambda a: log(a * 1.0), (1.7,), False),
    ("backward", "diamond", _diamond, (0.9, -0.4), True),
    ("backward", "shared intermediate", _shared, (0.6, -1.1), True),
    ("backward", "chain of 2500", _chain, (0.3,), False),
]


OPTIONAL_OPS = ("log",)


def central_difference(f, xs: tuple, i: int) -> float:
    """d f / d xs[i] by a central difference on plain floats."""
    up, down = list(xs), list(xs)
    up[i] += STEP
    down[i] -= STEP
    return (f(*up) - f(*down)) / (2 * STEP)


def _close(mine: float, expected: float) -> bool:
    return _is_number(mine) and abs(mine - expected) <= RELATIVE_TOLERANCE * max(1.0, abs(expected))


def check_op_case(engine: Engine, f, xs: tuple) -> tuple[str, str]:
    """("", "") when the engine computes f and its gradient at xs right; else (kind, detail)."""
    leaves = [engine.leaf(x) for x in xs]
    out = f(*leaves)
    if not isinstance(out, engine.value_class):
        return "not_a_value", f"gave {type(out).__name__}"
    expected = f(*xs)
    if not _close(engine.data(out), expected):
        return "forward", f"value {engine.data(out)!r}, expected {expected!r}"
    engine.backward(out)
    grads = [engine.grad(leaf) for leaf in leaves]
    wanted = [central_difference(f, xs, i) for i in range(len(xs))]
    if all(_close(g, w) for g, w in zip(grads, wanted)):
        return "", ""
    kind = "disconnected" if all(g == 0 for g in grads) else "gradient"
    return kind, f"gradients {grads!r}, finite differences {wanted!r}"


def check_seed(engine: Engine) -> tuple[str, str]:
    """backward() on an output seeds its own gradient with 1."""
    a, b = engine.leaf(1.3), engine.leaf(-0.7)
    out = a * b + a
    engine.backward(out)
    if engine.grad(out) != 1:
        return "gradient", f"the output's own gradient is {engine.grad(out)!r}, not 1"
    return "", ""


# ------------------------------------------------------------------------------------------- zero_grad

def reachable_parameters(engine: Engine, module) -> list[tuple[str, object]]:
    """Every value held by `module`, through lists, tuples and sub-modules, with the attribute path to it;
    found by walking attributes, so a parameters() that forgets one cannot hide it."""
    module_class = engine.namespace["Module"]
    found, seen = [], set()

    def attributes(obj):
        names = list(getattr(obj, "__dict__", {}))
        for klass in type(obj).__mro__:
            slots = klass.__dict__.get("__slots__", ())
            names += [slots] if isinstance(slots, str) else list(slots)
        return [(name, getattr(obj, name)) for name in dict.fromkeys(names) if hasattr(obj, name)]

    def walk(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, engine.value_class):
            found.append((path, obj))
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                walk(item, f"{path}[{i}]")
        elif isinstance(obj, module_class):
            for name, item in attributes(obj):
                walk(item, f"{path}.{name}")

    walk(module, type(module).__name__)
    return found


def check_zero_grad(engine: Engine, build) -> tuple[str, str]:
    """Every reachable parameter holds a random gradient; after zero_grad() all are 0 and no data moved."""
    random.seed(3)
    module = build()
    params = reachable_parameters(engine, module)
    listed = {id(p) for p in module.parameters()}
    missing = [path for path, p in params if id(p) not in listed]
    if missing:
        return "parameters_incomplete", f"parameters() leaves out {missing}"
    rng = random.Random(11)
    before = []
    for _path, p in params:
        engine.set_grad(p, rng.uniform(0.5, 2.0))
        before.append(engine.data(p))
    module.zero_grad()
    kept = [path for path, p in params if engine.grad(p) != 0]
    if kept:
        return "kept_grad", f"gradient not reset: {kept}"
    moved = [path for (path, p), d in zip(params, before) if engine.data(p) != d]
    if moved:
        return "changed_data", f"data changed: {moved}"
    return "", ""


ZERO_GRAD_MODULES = {
    "Neuron(3)": lambda ns: ns["Neuron"](3),
    "Layer(3, 4)": lambda ns: ns["Layer"](3, 4),
    "MLP(3, [4, 4, 1])": lambda ns: ns["MLP"](3, [4, 4, 1]),
}


# ----------------------------------------------------------------------------------------------- train

def _fixed_model(mlp_class, set_data):
    """MLP(3, [4, 4, 1]) whose parameters, in parameters() order, come from one fixed stream."""
    random.seed(1337)
    model = mlp_class(3, [4, 4, 1])
    rng = random.Random(7)
    for p in model.parameters():
        set_data(p, rng.uniform(-1, 1))
    return model


def reference_training(kwargs: dict) -> tuple[list[float], list[float]]:
    """The reference engine's losses and final parameters for train(**kwargs) on the lecture's data."""
    sys.path.insert(0, str(REFERENCE_DIR))
    try:
        from micrograd.nn import MLP
        from micrograd.train import train
    finally:
        sys.path.remove(str(REFERENCE_DIR))
    model = _fixed_model(MLP, lambda p, x: setattr(p, "data", x))
    losses = train(model, LECTURE_XS, LECTURE_YS, **kwargs)
    return list(losses), [p.data for p in model.parameters()]


TRAIN_RUNS = {"train()": {}, "train(steps=3, lr=0.03)": {"steps": 3, "lr": 0.03}}


def check_train(engine: Engine, kwargs: dict, expected: tuple[list[float], list[float]]) -> tuple[str, str]:
    model = _fixed_model(engine.namespace["MLP"], engine.set_data)
    with contextlib.redirect_stdout(io.StringIO()):
        losses = engine.namespace["train"](model, LECTURE_XS, LECTURE_YS, **kwargs)
    want_losses, want_params = expected
    losses = list(losses)
    if len(losses) != len(want_losses) or not all(
            isinstance(x, float) and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
            for x, y in zip(losses, want_losses)):
        return "losses", f"losses {losses!r}, reference {want_losses!r}"
    params = [engine.data(p) for p in model.parameters()]
    if not all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(params, want_params)):
        return "parameters", "the trained parameters differ from the reference's"
    return "", ""


# ------------------------------------------------------------------------------------------- the names

def check_names(engine: Engine) -> list[str]:
    """Problems with the declared names themselves: they must be where the engine really keeps things."""
    problems = []
    names = engine.names
    a, b = engine.leaf(1.3), engine.leaf(-0.7)
    if getattr(a, names["data"], None) != 1.3:
        problems.append(f"`{names['data']}` of a leaf made from 1.3 is not 1.3")
    if getattr(a, names["grad"], None) != 0:
        problems.append(f"`{names['grad']}` of a fresh leaf is not 0")
    out = a + b
    try:
        children = list(engine.children(out))
    except (AttributeError, TypeError) as exc:
        return [f"children `{names['children']}`: {exc}"]
    if sorted(map(id, children)) != sorted((id(a), id(b))):
        problems.append(f"`{names['children']}` of a + b does not hold exactly a and b")
    if names["style"] == "local_grads":
        local = list(getattr(out, names["local_grads"], ()))
        if local != [1, 1]:
            problems.append(f"`{names['local_grads']}` of a + b is {local!r}, not the local gradients (1, 1)")
        if hasattr(out, "_backward"):
            problems.append("a local_grads engine has a `_backward` on its nodes")
    elif not callable(getattr(out, closure := names.get("closure", "_backward"), None)):
        problems.append(f"a closures engine has no callable `{closure}` on a + b")
    if names["backward"].startswith("function:"):
        if hasattr(engine.value_class, "backward"):
            problems.append("a module-level backward, yet the class has a backward method too")
    elif not callable(getattr(engine.value_class, names["backward"], None)):
        problems.append(f"the class has no method `{names['backward']}`")
    return problems


# --------------------------------------------------------------------------------------------- running

class CaseTimeout(Exception):
    pass


def _on_alarm(_signum, _frame):
    raise CaseTimeout(f"no answer in {CASE_SECONDS} s")


@contextlib.contextmanager
def time_limit():
    """Raise CaseTimeout in the block once CASE_SECONDS have passed (a mutant may loop forever)."""
    signal.alarm(CASE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)


def _run_case(check, *args) -> tuple[str, str]:
    try:
        with time_limit():
            return check(*args)
    except Exception as exc:  # noqa: BLE001 - a crash is a result here
        return "crash", f"{type(exc).__name__}: {str(exc)[:200]}"


def validate(path: Path, names: dict, expected_training: dict) -> dict:
    """Everything this module checks about one submission (see the module's docstring for the shape)."""
    result: dict = {"load": None, "script": None, "names": [], "children_container": None, "cases": []}
    try:
        with time_limit():
            run_as_script(path)
    except Exception as exc:  # noqa: BLE001 - the error is the result
        result["script"] = f"{type(exc).__name__}: {exc}"
    try:
        with time_limit():
            engine = Engine(load_definitions(path), names)
    except Exception as exc:  # noqa: BLE001
        result["load"] = f"{type(exc).__name__}: {exc}"
        return result
    try:
        result["children_container"] = type(engine.children(engine.leaf(1.0) + engine.leaf(2.0))).__name__
        result["names"] = check_names(engine)
    except Exception as exc:  # noqa: BLE001
        result["names"] = [f"checking the names raised {type(exc).__name__}: {exc}"]

    def record(part, case, outcome, repeated=False):
        kind, detail = outcome
        result["cases"].append({"part": part, "case": case, "ok": not kind, "kind": kind,
                                "repeated": repeated, "detail": detail})

    for part, case, f, xs, repeated in OP_CASES:
        if part in OPTIONAL_OPS and not hasattr(engine.value_class, part):
            continue
        record(part, case, _run_case(check_op_case, engine, f, xs), repeated)
    record("backward", "seed", _run_case(check_seed, engine))
    for case, build in ZERO_GRAD_MODULES.items():
        record("zero_grad", case, _run_case(check_zero_grad, engine, lambda b=build: b(engine.namespace)))
    for case, kwargs in TRAIN_RUNS.items():
        record("train", case, _run_case(check_train, engine, kwargs, expected_training[case]))
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: shape_validator.py JOBS.json", file=sys.stderr)
        return 2
    jobs = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    sys.setrecursionlimit(100_000)  # what the grader sets: a recursive topological sort must cope with it
    signal.signal(signal.SIGALRM, _on_alarm)
    expected_training = {case: reference_training(kwargs) for case, kwargs in TRAIN_RUNS.items()}
    results = {job["key"]: validate(Path(job["path"]), job["names"], expected_training) for job in jobs}
    sys.stdout.write("\n" + MARKER + json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
