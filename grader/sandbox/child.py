"""The sandboxed child: import the student's engine, find its shape, run the probes, stream plain results.

Imported by the sandbox server (`zygote.py`) from a private runtime folder holding only these scripts,
`runners.py`, `shape.py`, `protocol.py` and `contract.py`; `run(config)` is called in each forked, confined
child and writes one JSON line per event to the results pipe (see protocol.py). It is not part of the grader package,
so nothing of the grader (and no reference engine) is importable from here.
"""
import __future__

import ast
import contextlib
import importlib
import inspect
import json
import os
import random
import sys
import types

import contract
import runners
import shape

PACKAGE_MODULES = {contract.module_name(file): names for file, names in contract.FILES.items()}
MAX_PROBLEMS = 20


def emit(fd, record):
    os.write(fd, (json.dumps(record) + "\n").encode())


def load_package(staged, problems):
    """The package's modules, each imported on its own so that one failing costs only its names."""
    namespaces = []
    sys.path.insert(0, staged)
    for module_name in PACKAGE_MODULES:
        try:
            module = importlib.import_module(module_name)
        except BaseException as exc:  # noqa: BLE001 - a module that fails to import costs its names only
            problems.append({"module": module_name, **runners.describe_error(exc, (staged,)), **syntax_where(exc)})
            continue
        namespaces.append(vars(module))
    return namespaces


def future_flags(tree):
    """The compiler flags of the file's `from __future__` imports, so they hold for every statement."""
    flags = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def load_module(staged, problems):
    """Run the kept top-level statements one by one, so a failing one costs only itself; the file's
    `from __future__` flags apply to each, as they would to the file compiled whole."""
    path = os.path.join(staged, "submission.py")
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    flags = future_flags(tree)
    # A real module in sys.modules, as `python file.py` has: a dataclass (or anything that resolves the
    # file's annotations) looks its module up there.
    module = types.ModuleType("submission")
    module.__file__ = path
    sys.modules["submission"] = module
    namespace = vars(module)
    for statement in tree.body:
        try:
            code = compile(ast.Module([statement], []), path, "exec", flags=flags, dont_inherit=True)
            exec(code, namespace)  # noqa: S102
        except BaseException as exc:  # noqa: BLE001
            problems.append({"module": "submission", **runners.describe_error(exc, (staged,)),
                             "where": [path, statement.lineno]})
    return [namespace]


def imported_files(staged, kind):
    """The staged files the submission's imports loaded, relative to `staged`: all of its source the judge
    reads (a hand-in's other files, however many and large, are never parsed)."""
    if kind != "package":
        return ["submission.py"]
    root = os.path.realpath(staged) + os.sep
    files = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.realpath(path).startswith(root):
            files.add(os.path.relpath(os.path.realpath(path), root))
    return sorted(files)


def syntax_where(exc):
    if isinstance(exc, SyntaxError) and exc.filename:
        return {"where": [exc.filename, exc.lineno or 0]}
    return {}


def contract_names(namespaces):
    """The contract's names as the submission defines them (the last module to define one wins)."""
    api = {}
    for namespace in namespaces:
        for name in contract.NAMES:
            if namespace.get(name) is not None:
                api[name] = namespace[name]
    return api


def own_classes(namespaces):
    """Classes defined in the submission's own modules (not imported from elsewhere), in definition order."""
    found = []
    for namespace in namespaces:
        for value in list(namespace.values()):
            if isinstance(value, type) and value not in found and own_module(getattr(value, "__module__", "")):
                found.append(value)
    return found


def own_module(name):
    package = contract.PACKAGE
    return isinstance(name, str) and (name in ("submission", package) or name.startswith(f"{package}."))


def functions_of(namespaces):
    return {name: value for namespace in namespaces for name, value in namespace.items()
            if inspect.isfunction(value)}


def engine_candidates(api, classes):
    """The contract's `Value` first, then classes named like it, then every other class of the submission."""
    first = [api[contract.VALUE]] if isinstance(api.get(contract.VALUE), type) else []
    named = [c for c in classes if c.__name__.lower() in ("value", "tensor", "scalar", "node", "var", "variable")]
    return list(dict.fromkeys(first + named + classes))


def find_nn(api, classes, functions):
    """Module, Neuron, Layer, MLP and train by the contract's names, else by the same names in any case."""
    for name in contract.NN_CLASSES:
        if api.get(name) is None:
            api[name] = next((c for c in classes if c.__name__.lower() == name.lower()), None)
    if api.get(contract.TRAIN) is None:
        api[contract.TRAIN] = next((f for n, f in functions.items() if n.lower() == contract.TRAIN), None)


def describe_engine(api, namespaces, strict):
    """Find the engine's shape and put it in `api`; what was found, for the load record."""
    classes = own_classes(namespaces)
    functions = functions_of(namespaces)
    api["functions"] = functions
    if not strict:
        find_nn(api, classes, functions)
    candidates = engine_candidates(api, [] if strict else classes)
    if not candidates:
        return {"problem": "defines no class whose instances support + and *"}, []
    try:
        engine, ambiguous = shape.discover(candidates, {} if strict else functions, strict)
    except shape.ShapeError as exc:
        api["shape_problem"] = str(exc)[:runners.protocol.MAX_TEXT]
        return {"problem": api["shape_problem"]}, []
    api["engine"] = engine
    backward = getattr(engine.cls, engine.backward_name, None) if ":" not in engine.backward_name else \
        functions.get(engine.backward_name.split(":", 1)[1])
    api["backward_where"] = runners.code_location(backward)
    return engine.names(), ambiguous


def kit_factory(source):
    """A fresh, known-good model kit per call (only the `train` child is handed one)."""
    code = compile(source, "<kit>", "exec")

    def make():
        namespace = {"__name__": "kit"}
        exec(code, namespace)  # noqa: S102
        return {name: namespace[name] for name in contract.MODEL_CLASSES}
    return make


def run(config):
    """Load the submission and answer the probes of `config`, writing events to its `results_fd`."""
    fd = config["results_fd"]
    staged = config["staged"]
    runners.raise_recursion_limit()
    random.seed(0)  # the same report every time, even for a submission that draws unseeded random numbers
    problems = []
    loader = load_package if config["kind"] == "package" else load_module
    namespaces = loader(staged, problems)
    api = contract_names(namespaces)
    found = [n for n in contract.NAMES if api.get(n) is not None]
    names, ambiguous = describe_engine(api, namespaces, bool(config.get("strict")))
    if config.get("kit_source"):
        api["kit"] = kit_factory(config["kit_source"])
    emit(fd, {"load": {"found": found, "problems": problems[:MAX_PROBLEMS], "shape": names,
                       "ambiguous": ambiguous[:MAX_PROBLEMS], "modules": imported_files(staged, config["kind"])}})
    files = (staged,)
    for i, probe in enumerate(config["probes"]):
        if i < config.get("skip", 0):
            continue
        emit(fd, {"start": i})
        emit(fd, {"i": i, "result": runners.run_probe(api, probe, files)})
    flush_output()
    emit(fd, {"done": True})


def flush_output():
    """Printed text reaches the output file before `done`, after which the child may be killed at once."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(BaseException):  # a student may have replaced or closed it
            stream.flush()
