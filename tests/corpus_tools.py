"""Load and build the corpus of known-bug mutants and known-correct variants in tests/corpus/.

A mutant is the reference package with one `find` snippet replaced (tests/corpus/mutants.toml); a
variant is a correct submission written differently, either as edits of the reference package or as a
complete single file / notebook under tests/corpus/correct/ (all listed in tests/corpus/correct.toml).

Run as a script, `python corpus_tools.py probe PATH [PATH ...]` prints (as JSON, after a marker) what each
submission computes on a fixed set of small expressions, using its own Value, MLP, backward() and train().
The script needs only the standard library, so it runs in a clean subprocess.
"""
from __future__ import annotations

import ast
import json
import math
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from grader.contract import FILES, NAMES, PACKAGE, module_name

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
CORPUS_DIR = TESTS_DIR / "corpus"
REFERENCE_PACKAGE = REPO_DIR / "reference" / PACKAGE
MUTANTS_FILE = CORPUS_DIR / "mutants.toml"
VARIANTS_FILE = CORPUS_DIR / "correct.toml"

PART_IDS = ("add", "mul", "pow", "exp", "tanh", "relu", "neg", "sub", "div", "backward", "zero_grad", "train")
OP_PARTS = ("add", "mul", "pow", "exp", "tanh", "relu", "neg", "sub", "div")
OP_DIAGNOSES = (
    "not_started", "missing", "crash", "returns_none", "backward_not_callable", "no_plain_number",
    "not_connected", "wrong_forward", "no_gradient", "overwrite", "chain_rule_dropped", "wrong_derivative",
)
# Codes named from the numbers, for the ops whose closures or reflected forms can show them.
NAMED_FROM_NUMBERS = {**{part: ("swapped_factor", "wrong_node") for part in ("add", "mul", "pow", "exp", "tanh", "relu")},
                      "sub": ("swapped_operands",), "div": ("swapped_operands",)}
DIAGNOSES: dict[str, tuple[str, ...]] = {
    **{part: OP_DIAGNOSES + NAMED_FROM_NUMBERS.get(part, ()) for part in OP_PARTS},
    "backward": ("not_seeded", "not_reversed", "visited_twice", "wrong_gradient", "crash", "not_started"),
    "zero_grad": ("misses_parameters", "resets_data", "not_a_number", "not_started", "crash"),
    "train": ("no_zero_grad", "zero_grad_after_backward", "wrong_sign_update", "lr_ignored",
              "loss_not_sum_of_squares", "wrong_losses", "train_wrong_return", "not_started", "crash"),
}
PACKAGE_FILES = tuple(FILES)


# ---------------------------------------------------------------------------------------------- loading

def _load_toml(path: Path) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_mutants() -> list[dict]:
    """Every `[[mutant]]` of tests/corpus/mutants.toml, in file order."""
    return list(_load_toml(MUTANTS_FILE).get("mutant", []))


def load_variants() -> list[dict]:
    """Every `[[variant]]` of tests/corpus/correct.toml, in file order.

    An entry has either `edit` (a list of {file, find, replace} applied to the reference package) or
    `submission` (a path relative to tests/corpus/ of a single .py file or .ipynb notebook).
    """
    return list(_load_toml(VARIANTS_FILE).get("variant", []))


SHAPES_FILE = CORPUS_DIR / "shapes.toml"


def load_shapes() -> list[dict]:
    """Every `[[shape]]` of tests/corpus/shapes.toml: a correct single file whose engine keeps its pieces
    under the names in its `names` table (value_class, children, data, grad, backward, style)."""
    return list(_load_toml(SHAPES_FILE).get("shape", []))


def load_shape_mutants() -> list[dict]:
    """Every `[[shape_mutant]]` of tests/corpus/shapes.toml: one `find`/`replace` edit of its shape's file."""
    return list(_load_toml(SHAPES_FILE).get("shape_mutant", []))


# --------------------------------------------------------------------------------------------- building

def apply_edit(text: str, find: str, replace: str, where: str = "") -> str:
    """`text` with the one occurrence of `find` replaced; any other number of occurrences is an error."""
    count = text.count(find)
    if count != 1:
        raise AssertionError(f"{where}: the find snippet occurs {count} times (must be exactly once):\n{find}")
    return text.replace(find, replace, 1)


def copy_reference(dest: Path) -> Path:
    """A fresh copy of reference/micrograd at dest/micrograd; returns dest."""
    dest = Path(dest)
    target = dest / "micrograd"
    if target.exists():
        shutil.rmtree(target)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REFERENCE_PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def _edit_package(dest: Path, edits: list[dict], where: str) -> Path:
    copy_reference(dest)
    for i, edit in enumerate(edits):
        if edit["file"] not in PACKAGE_FILES:
            raise AssertionError(f"{where}: unknown file {edit['file']!r}, not one of {PACKAGE_FILES}")
        path = Path(dest) / "micrograd" / edit["file"]
        text = path.read_text(encoding="utf-8")
        path.write_text(apply_edit(text, edit["find"], edit["replace"], f"{where} edit {i}"), encoding="utf-8")
    return Path(dest)


def build_mutant(entry: dict, dest: Path) -> Path:
    """Copy reference/micrograd into dest/micrograd, apply the mutant's one edit; returns dest."""
    return _edit_package(dest, [entry], f"mutant {entry.get('name')}")


def build_variant(entry: dict, dest: Path) -> Path:
    """Build a correct variant under dest: the folder holding micrograd/, or the copied .py/.ipynb file."""
    if "submission" in entry:
        source = CORPUS_DIR / entry["submission"]
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / source.name
        shutil.copyfile(source, target)
        return target
    return _edit_package(dest, entry["edit"], f"variant {entry.get('name')}")


def shape_mutant_source(entry: dict) -> str:
    """The text of the shape file that `entry` (a shape mutant) edits, with its one edit applied."""
    shape = next(s for s in load_shapes() if s["name"] == entry["shape"])
    source = (CORPUS_DIR / shape["submission"]).read_text(encoding="utf-8")
    return apply_edit(source, entry["find"], entry["replace"], f"shape mutant {entry.get('name')}")


def build_shape_mutant(entry: dict, dest: Path) -> Path:
    """Write the shape mutant under dest, under its shape's file name; returns the file's path."""
    shape = next(s for s in load_shapes() if s["name"] == entry["shape"])
    target = Path(dest) / Path(shape["submission"]).name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(shape_mutant_source(entry), encoding="utf-8")
    return target


def _is_statement(line: str) -> bool:
    """A line that holds code (not blank, not only a comment): what a report can point at."""
    return bool(line.strip()) and not line.strip().startswith("#")


def expected_line(entry: dict) -> int:
    """The line of the mutant's built file the grader must point at: the entry's explicit `line` when the
    statement to blame is not the edited one, else computed from the edit: the first code line of
    `replace` that differs from `find`, or, where the edit only deletes, the line where the deleted text
    was (the line that now follows)."""
    if "line" in entry:
        return int(entry["line"])
    text = (REFERENCE_PACKAGE / entry["file"]).read_text(encoding="utf-8")
    first = text[: text.index(entry["find"])].count("\n") + 1
    found, replaced = entry["find"].splitlines(), entry["replace"].splitlines()
    for k, line in enumerate(replaced):
        if (k >= len(found) or line != found[k]) and _is_statement(line):
            return first + k
    # Only deleted code (perhaps with a comment left in its place): where it was, past that comment.
    k = next((k for k, line in enumerate(replaced) if k >= len(found) or line != found[k]), len(replaced))
    while k < len(replaced) and not _is_statement(replaced[k]):
        k += 1
    return first + k


# ------------------------------------------------------------------------ single files and notebooks

IPYTHON_LINE = re.compile(r"\s*[%!]|\s*[\w.]+\s*=\s*[%!]|.*\bget_ipython\(")


def notebook_source(path: Path) -> list[str]:
    """The code cells of a notebook without their IPython-only lines (`%magic`, `!shell`, `x = !cmd`,
    `get_ipython()`); a cell under a `%%` cell magic is left out whole."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if source.lstrip().startswith("%%"):
            continue
        kept = [line for line in source.splitlines() if not IPYTHON_LINE.match(line)]
        cells.append("\n".join(kept) + "\n")
    return cells


_NEVER_AT_IMPORT = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)


def _is_kept(node: ast.stmt) -> bool:
    """Imports, classes, functions, and assignments to names or attributes whose value calls nothing."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if not all(isinstance(t, (ast.Name, ast.Attribute)) for t in targets):
            return False
        return not any(isinstance(sub, _NEVER_AT_IMPORT) for sub in ast.walk(node.value))
    return False


def definitions(path: Path) -> list[tuple[ast.stmt, str]]:
    """The top-level statements a grader takes from a single file or notebook: imports, classes,
    functions and assignments that call nothing (with the file name to compile them under)."""
    path = Path(path)
    if path.suffix == ".ipynb":
        sources = notebook_source(path)
    else:
        sources = [path.read_text(encoding="utf-8")]
    kept = []
    for i, source in enumerate(sources):
        name = f"{path}[cell {i}]" if path.suffix == ".ipynb" else str(path)
        try:
            tree = ast.parse(source, name)
        except SyntaxError:
            if path.suffix == ".ipynb":
                continue  # a cell of IPython-only syntax holds nothing the grader takes
            raise
        kept.extend((node, name) for node in tree.body if _is_kept(node))
    return kept


def load_definitions(path: Path) -> dict:
    """Execute the kept definitions of a single file or notebook; a failing import or assignment costs only
    itself."""
    namespace: dict = {"__name__": "submission"}
    for node, name in definitions(path):
        code = compile(ast.Module([node], []), name, "exec")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            try:
                exec(code, namespace)  # noqa: S102
            except ImportError:
                pass
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            try:
                exec(code, namespace)  # noqa: S102
            except (NameError, AttributeError, TypeError, ArithmeticError, LookupError):
                pass  # an assignment reading something exploratory code would have made
        else:
            exec(code, namespace)  # noqa: S102
    return namespace


def compile_submission(path: Path) -> None:
    """Raise SyntaxError if the submission (a package folder, .py file or notebook) does not compile."""
    path = Path(path)
    if path.is_dir():
        for file in sorted((path / "micrograd").glob("*.py")):
            compile(file.read_text(encoding="utf-8"), str(file), "exec")
    else:
        definitions(path)


# ------------------------------------------------------------------------------------------------ probes

def load_api(path: Path) -> dict:
    """The names a grader looks up (Value, Module, Neuron, Layer, MLP, train), None where missing."""
    path = Path(path).resolve()
    if path.is_dir():
        import importlib

        sys.path.insert(0, str(path))
        api = {}
        for file, names in FILES.items():
            try:
                module = importlib.import_module(module_name(file))
            except Exception:  # noqa: BLE001 - a broken module costs its own names only
                module = None
            for name in names:
                api[name] = getattr(module, name, None)
        return api
    namespace = load_definitions(path)
    return {name: namespace.get(name) for name in NAMES}


LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]


def _fixed_mlp(api):
    """MLP(3, [4, 4, 1]) with the same parameters whatever order the submission draws random numbers in."""
    import random

    random.seed(1337)
    model = api["MLP"](3, [4, 4, 1])
    rng = random.Random(7)
    for p in model.parameters():
        p.data = rng.uniform(-1, 1)
    return model


def _grads(out, *leaves):
    out.backward()
    return [out.data] + [leaf.grad for leaf in leaves]


def _binary(expr):
    def probe(V):
        a, b = V(-1.3), V(0.7)
        return _grads(expr(a, b), a, b)
    return probe


def _unary(expr, x):
    def probe(V):
        a = V(x)
        return _grads(expr(a), a)
    return probe


def _accumulating(op, x):
    """op(a) * b + a: the upstream gradient is b, and a collects from two places."""
    def probe(V):
        a, b = V(x), V(-1.7)
        return _grads(op(a) * b + a, a, b)
    return probe


def _in_context(op, x):
    """op(a * c) * b + a with c = 1: the op's input is an inner node, its upstream gradient is b, and a
    collects from two places."""
    def probe(V):
        a, b, c = V(x), V(-1.7), V(1.0)
        return _grads(op(a * c) * b + a, a, b, c)
    return probe


def _neuron(V):
    x1, x2 = V(2.0, label="x1"), V(0.0, label="x2")
    w1, w2 = V(-3.0, label="w1"), V(1.0, label="w2")
    b = V(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    return _grads(o, x1, x2, w1, w2, b)


def _shared_intermediate(V):
    a, b = V(0.6), V(-1.1)
    c = a * b
    d = c * c + c
    return _grads(d, a, b)


def _diamond(V):
    a, b = V(0.9), V(-0.4)
    c = a + b
    d = a * c
    e = d * c + d
    f = e * e
    return _grads(f, a, b)


def _skip(V):
    # c feeds the output directly and through two more nodes: reached early by a breadth-first walk.
    a, b = V(0.9), V(-0.4)
    c = a * b
    d = c * 1.7
    e = d * -0.8
    out = c * 0.6 + e * -1.4
    return _grads(out, a, b)


def _zero_grad(api):
    model = _fixed_mlp(api)
    params = model.parameters()
    for i, p in enumerate(params):
        p.grad = 0.5 + i
    model.zero_grad()
    return [p.grad for p in params] + [p.data for p in params]


def _train(api, **kwargs):
    def probe(_V):
        model = _fixed_mlp(api)
        losses = api["train"](model, LECTURE_XS, LECTURE_YS, **kwargs)
        return list(losses) + ["|", len(losses)] + [p.data for p in model.parameters()]
    return probe


def _engine_probes():
    ops = {
        "exp": lambda a: a.exp(),
        "tanh": lambda a: a.tanh(),
        "relu": lambda a: a.relu(),
        "pow3": lambda a: a**3,
        "pow_half": lambda a: a**0.5,
    }
    probes = {
        "neuron": _neuron,
        "a+a": _unary(lambda a: a + a, 1.5),
        "a*a": _unary(lambda a: a * a, 1.5),
        "(a*b)*(a+b)": _binary(lambda a, b: (a * b) * (a + b)),
        "((a+b)*c)+a": _binary(lambda a, b: (a + b) * 2.5 + a),
        "((a*b)*c)+a": _binary(lambda a, b: (a * b) * 2.5 + a),
        "a+b": _binary(lambda a, b: a + b),
        "a*b": _binary(lambda a, b: a * b),
        "a-b": _binary(lambda a, b: a - b),
        "a/b": _binary(lambda a, b: a / b),
        "(a-b)*a": _binary(lambda a, b: (a - b) * a),
        "(a/b)*a": _binary(lambda a, b: (a / b) * a),
        "-a*b": _binary(lambda a, b: -a * b),
        "a+2.0": _unary(lambda a: a + 2.0, 1.5),
        "2.0+a": _unary(lambda a: 2.0 + a, 1.5),
        "a*2": _unary(lambda a: a * 2, 1.5),
        "2*a": _unary(lambda a: 2 * a, 1.5),
        "1-a": _unary(lambda a: 1 - a, 1.5),
        "a-1": _unary(lambda a: a - 1, 1.5),
        "2/a": _unary(lambda a: 2 / a, 1.5),
        "a/2": _unary(lambda a: a / 2, 1.5),
        "-a": _unary(lambda a: -a, 1.5),
        "shared intermediate": _shared_intermediate,
        "diamond": _diamond,
        "skip": _skip,
    }
    points = {"exp": (0.8, -0.6), "tanh": (0.8, -0.6), "relu": (1.3, -0.7), "pow3": (1.2, -0.9), "pow_half": (1.6,)}
    for name, op in ops.items():
        for x in points[name]:
            probes[f"{name}({x})"] = _unary(op, x)
            probes[f"{name}({x})*b+a"] = _accumulating(op, x)
            probes[f"{name}({x}*c)*b+a"] = _in_context(op, x)
    return probes


def _plain(value):
    """A JSON-friendly number (or a tag saying what else it was)."""
    if isinstance(value, str):
        return value
    if isinstance(value, complex):
        return f"complex:{value}"
    if isinstance(value, (bool, int, float)) or type(value).__module__ == "numpy":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"not a number: {type(value).__name__}"
        return number if math.isfinite(number) else f"nonfinite:{number}"
    return f"not a number: {type(value).__name__}"


def run_probes(path: Path) -> dict:
    """What the submission at `path` computes on every probe: {name: [numbers]} or {name: "error: ..."}."""
    import signal

    def timeout(_signum, _frame):
        raise TimeoutError("probe took too long")

    signal.signal(signal.SIGALRM, timeout)
    try:
        try:
            api = load_api(path)
        except Exception as exc:  # noqa: BLE001
            return {"load": f"error: {type(exc).__name__}: {exc}"}
        probes = dict(_engine_probes())
        probes["zero_grad"] = lambda _V: _zero_grad(api)
        probes["train(steps=3, lr=0.03)"] = _train(api, steps=3, lr=0.03)
        probes["train(default)"] = _train(api)
        results = {}
        for name, probe in probes.items():
            signal.alarm(5)
            try:
                results[name] = [_plain(v) for v in probe(api["Value"])]
            except BaseException as exc:  # noqa: BLE001 - every failure is a result here
                results[name] = f"error: {type(exc).__name__}: {str(exc)[:200]}"
            finally:
                signal.alarm(0)
        return results
    finally:
        _forget_package(path)


def _forget_package(path: Path) -> None:
    """Drop an imported `micrograd` and its folder from this interpreter, so the next submission gets its own."""
    for name in [n for n in sys.modules if n == "micrograd" or n.startswith("micrograd.")]:
        del sys.modules[name]
    folder = str(Path(path).resolve())
    while folder in sys.path:
        sys.path.remove(folder)


_MARKER = "@@corpus-probe-results@@"


def probe_many_in_subprocess(paths: list[Path], timeout: float = 120) -> list[dict]:
    """run_probes of each path, several submissions to one fresh interpreter (each with its own
    `micrograd`); if that interpreter dies, every path is probed again in an interpreter of its own."""
    paths = [Path(p).resolve() for p in paths]
    # -B: importing a package in place (the examples) must leave no __pycache__ behind.
    command = [sys.executable, "-B", str(Path(__file__).resolve()), "probe", *map(str, paths)]
    try:
        proc = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout,
                              cwd=str(paths[0].parent))
        if proc.returncode == 0 and _MARKER in proc.stdout:
            results = json.loads(proc.stdout.rsplit(_MARKER, 1)[1])
            return [results[str(p)] for p in paths]
        failure = f"error: exit {proc.returncode}: {proc.stderr[-2000:]}"
    except subprocess.TimeoutExpired:
        failure = f"error: no answer in {timeout} s"
    if len(paths) == 1:
        return [{"load": failure}]
    return [probe_many_in_subprocess([p], timeout)[0] for p in paths]


def probe_in_subprocess(path: Path, timeout: float = 60) -> dict:
    """run_probes(path) in a fresh interpreter."""
    return probe_many_in_subprocess([path], timeout)[0]


def same_result(mine, theirs, rel=1e-7, abs_tol=1e-9) -> bool:
    """True when two probe results agree (numbers up to rounding, everything else exactly)."""
    if isinstance(mine, str) or isinstance(theirs, str):
        return mine == theirs
    if len(mine) != len(theirs):
        return False
    for x, y in zip(mine, theirs):
        if isinstance(x, str) or isinstance(y, str):
            if x != y:
                return False
        elif not math.isclose(x, y, rel_tol=rel, abs_tol=abs_tol):
            return False
    return True


def differences(results: dict, reference: dict) -> list[str]:
    """Names of the probes on which `results` disagrees with `reference`."""
    return [name for name in reference if not same_result(results.get(name, "missing"), reference[name])]


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "probe":
        sys.setrecursionlimit(10_000)
        outcome = {path: run_probes(Path(path)) for path in sys.argv[2:]}
        sys.stdout.write("\n" + _MARKER + json.dumps(outcome) + "\n")
        sys.stdout.flush()
    else:
        print("usage: corpus_tools.py probe PATH [PATH ...]", file=sys.stderr)
        raise SystemExit(2)
