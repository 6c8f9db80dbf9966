"""The sandboxed child: import the student's engine, run the probes, stream plain results to the parent.

Imported by the sandbox server (`zygote.py`) from a private runtime folder holding only these scripts and
`runners.py`; `run(config)` is called in each forked, confined child and writes one JSON line per event to
the results pipe (`{"start": i}` before probe i, `{"i": i, "result": {...}}` after). It is not part of the
grader package, so nothing of the grader (and no reference engine) is importable from here.
"""
import ast
import contextlib
import importlib
import json
import os
import random
import sys

import runners

NAMES = ("Value", "Module", "Neuron", "Layer", "MLP", "train")
PACKAGE_MODULES = {"micrograd.engine": ("Value",), "micrograd.nn": ("Module", "Neuron", "Layer", "MLP"),
                   "micrograd.train": ("train",)}


def emit(fd, record):
    os.write(fd, (json.dumps(record) + "\n").encode())


def load_package(staged, problems):
    api = {}
    sys.path.insert(0, staged)
    for module_name, names in PACKAGE_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except BaseException as exc:  # noqa: BLE001 - a module that fails to import costs its names only
            problems.append({"module": module_name, **runners.describe_error(exc, (staged,)), **syntax_where(exc)})
            continue
        for name in names:
            api[name] = getattr(module, name, None)
    return api


def load_module(staged, problems):
    """Run the kept top-level statements one by one, so a failing import costs only itself."""
    path = os.path.join(staged, "submission.py")
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    namespace = {"__name__": "submission", "__file__": path}
    for statement in tree.body:
        try:
            exec(compile(ast.Module([statement], []), path, "exec"), namespace)  # noqa: S102
        except BaseException as exc:  # noqa: BLE001
            problems.append({"module": "submission", **runners.describe_error(exc, (staged,)),
                             "where": [path, statement.lineno]})
    return {name: namespace.get(name) for name in NAMES}


def syntax_where(exc):
    if isinstance(exc, SyntaxError) and exc.filename:
        return {"where": [exc.filename, exc.lineno or 0]}
    return {}


def kit_factory(source):
    """A fresh, known-good model kit per call (only the `train` stage is handed one)."""
    code = compile(source, "<kit>", "exec")

    def make():
        namespace = {"__name__": "kit"}
        exec(code, namespace)  # noqa: S102
        return {name: namespace[name] for name in ("Value", "Module", "Neuron", "Layer", "MLP")}
    return make


def run(config):
    """Load the submission and answer the probes of `config`, writing events to its `results_fd`."""
    fd = config["results_fd"]
    staged = config["staged"]
    runners.raise_recursion_limit()
    random.seed(0)  # the same report every time, even for a submission that draws unseeded random numbers
    problems = []
    api = load_package(staged, problems) if config["kind"] == "package" else load_module(staged, problems)
    if config.get("kit_source"):
        api["kit"] = kit_factory(config["kit_source"])
    emit(fd, {"load": {"found": [n for n in NAMES if api.get(n) is not None], "problems": problems[:20]}})
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

