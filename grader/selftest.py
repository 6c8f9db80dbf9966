"""Mutation testing of the grader: plant small bugs in the reference's solution regions and check the grader sees them.

A mutant changes one operator, constant or comparison inside one solution region and leaves every other line
of the file byte-identical. An independent oracle (random expression graphs, `zero_grad` and a short
training run, none of them the grader's probes) decides whether the mutant computes anything different from
the reference; those that do must lose points when graded, or they are reported as survivors.
"""
from __future__ import annotations

import ast
import copy
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.assignment import Assignment, load_assignment
from grader.authoring.markers import Region, parse_regions
from grader.contract import FILES, PACKAGE
from grader.parts import OPS, assignment_ops
from grader.paths import REFERENCE_DIR

SAMPLE_SEED = 20240
ORACLE_TIMEOUT = 30.0
ORACLE_REL_TOL = 1e-9
WORKERS = 4

_OP_SWAPS: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                               ast.Pow: ast.Mult}
_CMP_SWAPS: dict[type, type] = {ast.Gt: ast.Lt, ast.Lt: ast.Gt, ast.GtE: ast.LtE, ast.LtE: ast.GtE}


@dataclass(frozen=True)
class Mutant:
    """One planted bug: `source` is the whole mutated file, identical to the reference outside `line`'s statement."""

    id: str
    part_id: str
    file: str
    line: int
    description: str
    source: str


@dataclass
class Outcome:
    """What became of one mutant: whether the oracle tells it apart, and whether grading lost points."""

    mutant: Mutant
    equivalent: bool
    killed: bool
    score: float
    max_score: float
    oracle_note: str = ""


@dataclass
class Report:
    total: int
    equivalent: int
    non_equivalent: int
    killed: int
    kill_rate: float
    survivors: list[dict] = field(default_factory=list)
    equivalents: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        lines = [
            f"mutants: {self.total}",
            f"equivalent (oracle cannot tell them from the reference): {self.equivalent}",
            f"non-equivalent: {self.non_equivalent}",
            f"killed (lost points when graded): {self.killed}",
            f"kill rate among non-equivalent: {self.kill_rate:.1%}",
        ]
        if self.survivors:
            lines.append("survivors:")
            lines.extend(f"  {s['id']}  {s['file']}:{s['line']}  {s['description']}" for s in self.survivors)
        else:
            lines.append("survivors: none")
        if self.seconds:
            lines.append(f"time: {self.seconds:.1f} s")
        return "\n".join(lines) + "\n"


# --- generating mutants -------------------------------------------------------------------------------


Rewrite = Callable[[ast.AST], ast.AST]


class _Sites(ast.NodeTransformer):
    """Visits a statement's nodes in pre-order; the node numbered `target` is replaced by `rewrite(node)`."""

    def __init__(self, target: int = -1, rewrite: Rewrite | None = None) -> None:
        self.count = 0
        self.target = target
        self.rewrite = rewrite
        self.nodes: list[ast.AST] = []

    def visit(self, node: ast.AST) -> ast.AST:
        index = self.count
        self.count += 1
        self.nodes.append(node)
        if index == self.target and self.rewrite is not None:
            return self.rewrite(node)
        return self.generic_visit(node)


def _numeric(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _rewrites(node: ast.AST) -> Iterator[tuple[str, Rewrite]]:
    """The mutations that apply to `node` itself, each as (description, function building the new node)."""
    if isinstance(node, ast.BinOp):
        swap = _OP_SWAPS.get(type(node.op))
        if swap is not None:
            yield "operator swap", lambda n, swap=swap: ast.BinOp(n.left, swap(), n.right)
        if isinstance(node.op, ast.Mult):
            yield "dropped factor", lambda n: n.left
            yield "dropped factor", lambda n: n.right
    elif isinstance(node, ast.AugAssign):
        yield "overwrite instead of accumulate", lambda n: ast.Assign([n.target], n.value)
        swap = _OP_SWAPS.get(type(node.op))
        if swap is not None and isinstance(node.op, (ast.Add, ast.Sub)):
            yield "operator swap", lambda n, swap=swap: ast.AugAssign(n.target, swap(), n.value)
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield "flipped boolean", lambda n: ast.Constant(not n.value)
    elif _numeric(node):
        yield "constant changed", lambda n: ast.Constant(n.value + 1)
        if node.value != 0:
            yield "constant changed", lambda n: ast.Constant(-n.value)
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP_SWAPS:
        yield "comparison flip", lambda n: ast.Compare(n.left, [_CMP_SWAPS[type(n.ops[0])]()], n.comparators)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "unary minus removed", lambda n: n.operand
    if isinstance(node, (ast.Assign, ast.AugAssign)) and isinstance(node.value, (ast.BinOp, ast.Attribute)):
        yield "unary minus added", lambda n: _with_value(n, ast.UnaryOp(ast.USub(), n.value))


def _with_value(statement: ast.AST, value: ast.expr) -> ast.AST:
    statement.value = value
    return statement


def _site(statement: ast.AST, index: int) -> ast.AST:
    collector = _Sites()
    collector.visit(statement)
    return collector.nodes[index] if index < len(collector.nodes) else statement


def _short(node: ast.AST, width: int = 60) -> str:
    text = ast.unparse(ast.fix_missing_locations(copy.deepcopy(node)))
    return text if len(text) <= width else text[:width - 3] + "..."


def _simple_statements(tree: ast.Module, region: Region) -> list[ast.stmt]:
    """Statements of the region without a body of their own (assignments, calls, returns, asserts)."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.stmt) and not hasattr(node, "body")
                and region.begin < node.lineno and node.end_lineno < region.end):
            found.append(node)
    return sorted(found, key=lambda s: (s.lineno, s.col_offset))


def _replace_statement(lines: list[str], statement: ast.stmt, new: ast.stmt) -> str:
    """The file with `statement`'s lines replaced by `new`, at the original indentation."""
    first = lines[statement.lineno - 1]
    indent = first[:len(first) - len(first.lstrip())]
    newline = first[len(first.rstrip("\r\n")):] or "\n"
    text = ast.unparse(ast.fix_missing_locations(new))
    replacement = textwrap.indent(text, indent).rstrip("\n") + newline
    return "".join(lines[:statement.lineno - 1] + [replacement] + lines[statement.end_lineno:])


def generate_mutants(reference_dir: Path = REFERENCE_DIR, parts: set[str] | None = None) -> list[Mutant]:
    """Every mutant of every solution region (of `parts` only, when given), in file, line and site order;
    duplicates by source dropped."""
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for name in FILES:
        path = reference_dir / PACKAGE / name
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        tree = ast.parse(text)
        relative = f"{PACKAGE}/{name}"
        for region in parse_regions(text, relative):
            if parts is not None and region.part_id not in parts:
                continue
            number = 0
            for statement in _simple_statements(tree, region):
                collector = _Sites()
                collector.visit(copy.deepcopy(statement))
                for index, node in enumerate(collector.nodes):
                    for what, rewrite in _rewrites(node):
                        changed = _Sites(index, rewrite).visit(copy.deepcopy(statement))
                        description = f"{what}: `{_short(node)}` becomes `{_short(_site(changed, index))}`"
                        source = _replace_statement(lines, statement, changed)
                        if source == text or source in seen:
                            continue
                        seen.add(source)
                        number += 1
                        line = getattr(node, "lineno", statement.lineno)
                        mutants.append(Mutant(f"{region.part_id}-{number:02d}", region.part_id, relative, line,
                                              description, source))
    return mutants


def sample_mutants(mutants: list[Mutant], limit: int | None, seed: int = SAMPLE_SEED) -> list[Mutant]:
    """At most `limit` mutants, drawn region by region in turn so every region keeps some; same seed, same pick."""
    if limit is None or limit >= len(mutants):
        return list(mutants)
    rng = random.Random(seed)
    by_part: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_part.setdefault(mutant.part_id, []).append(mutant)
    for group in by_part.values():
        rng.shuffle(group)
    chosen: set[str] = set()
    while len(chosen) < limit:
        for group in by_part.values():
            if group and len(chosen) < limit:
                chosen.add(group.pop().id)
    return [m for m in mutants if m.id in chosen]


# --- the oracle ---------------------------------------------------------------------------------------

# Runs inside a child whose sys.path starts with the package under test; prints one JSON object.
ORACLE_SCRIPT = r'''
import json, math, random, sys
sys.setrecursionlimit(10000)
from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.train import train

def safe(node, pool):
    # tanh + 2 lies in (1, 3): a safe divisor and base; kept in the pool so later nodes reuse it.
    out = node.tanh() + 2
    pool.append(out)
    return out

def graph(rng):
    leaves = [Value(rng.uniform(-2, 2)) for _ in range(rng.randint(2, 4))]
    pool = list(leaves)
    for _ in range(rng.randint(3, 9)):
        a, b = rng.choice(pool), rng.choice(pool)
        c = rng.choice([-2.5, -1.0, 0.5, 1.5, 3.0])
        pick = rng.randrange(17)
        if pick == 0: out = a + b
        elif pick == 1: out = a - b
        elif pick == 2: out = a * b
        elif pick == 3: out = a / safe(b, pool)
        elif pick == 4: out = safe(a, pool) ** rng.choice([2, 3, -1, -2, 0.5])
        elif pick == 5: out = safe(a, pool).exp()
        elif pick == 6: out = a.tanh()
        elif pick == 7:
            scaled = a * c
            r = scaled.relu()
            pool.extend([scaled, r])
            out = r * b
        elif pick == 8: out = a + c
        elif pick == 9: out = c + a
        elif pick == 10: out = a - c
        elif pick == 11: out = c - a
        elif pick == 12: out = a * c
        elif pick == 13: out = c * a
        elif pick == 14: out = a / c
        elif pick == 15: out = c / safe(a, pool)
        else: out = (a * a).tanh() * b
        pool.append(out)
    out = pool[-1]
    for node in pool[:-1]:  # every node reaches the output, and most reach it twice
        out = out + node
    out.backward()
    return [out.data] + [n.data for n in pool] + [n.grad for n in pool]

def relu_slope(x, weight):
    v = Value(x)
    out = v.relu() * weight
    out.backward()
    return [out.data, v.grad]

import operator
OPS = json.loads(sys.argv[1])

def op_cases(op, rng):
    # Each declared op on points of its own domain (drawn here, not the grader's), with a number on
    # either side where the op takes one, and each input's gradient under an upstream factor of 1.7.
    rows = []
    for _ in range(4):
        xs = []
        for _ in range(2 if op["binary"] else 1):
            x = rng.uniform(op["low"], op["high"])
            xs.append(x if op["positive"] or rng.random() < 0.5 else -x)
        for form in ("values", "left", "right") if op["reflected"] else ("values",):
            leaves = [Value(x) for x in xs]
            if op["exponent"]:
                args = [leaves[0], 2.5 if xs[0] > 0 else 3]
            elif form == "left":
                args = [1.5, leaves[0]]
            elif form == "right":
                args = [leaves[0], 1.5]
            else:
                args = leaves
            fn = getattr(operator, op["name"]) if op["via"] == "operator" else (lambda x: getattr(x, op["name"])())
            out = fn(*args) * 1.7
            out.backward()
            rows.append([out.data] + [leaf.grad for leaf in leaves])
    return rows

rng = random.Random(99)
result = {"graphs": [graph(rng) for _ in range(40)]}
result["ops"] = {op["id"]: op_cases(op, random.Random(5)) for op in OPS}
result["relu"] = [relu_slope(x, 3.0) for x in (-1.5, -0.25, 0.0, 0.25, 0.5, 2.0)]

random.seed(7)
model = MLP(3, [4, 4, 1])
params = model.parameters()
for p in params:
    p.grad = rng.uniform(-3, 3)
model.zero_grad()
result["zero_grad"] = [p.grad for p in params] + [p.data for p in params]

random.seed(11)
model = MLP(3, [4, 4, 1])
xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
ys = [1.0, -1.0, -1.0, 1.0]
losses = train(model, xs, ys, steps=5, lr=0.05)
result["train"] = list(losses) + [p.data for p in model.parameters()] + [p.grad for p in model.parameters()]
print(json.dumps(result))
'''


def oracle_ops(assignment: Assignment) -> str:
    """The assignment's ops as the oracle evaluates them, from their declarations."""
    ops = [{"id": op.id, "via": op.syntax[0], "name": op.syntax[1], "binary": op.arity == 2 and not op.exponent,
            "exponent": op.exponent, "reflected": bool(op.reflected), "low": op.domain.low, "high": op.domain.high,
            "positive": op.domain.positive or op.exponent}
           for op in (OPS[i] for i in assignment_ops(part.id for part in assignment.parts))]
    return json.dumps(ops)


def run_oracle(package_parent: Path, ops: str = "[]", timeout: float = ORACLE_TIMEOUT) -> dict | None:
    """The oracle's numbers for the package under `package_parent` (`ops` from `oracle_ops`), or None if
    it errors or hangs."""
    try:
        done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(package_parent)!r})\n"
                               + ORACLE_SCRIPT, ops], check=False, capture_output=True, text=True,
                              timeout=timeout, cwd=package_parent)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def _same(a: object, b: object) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=ORACLE_REL_TOL, abs_tol=1e-12)
    return a == b


def agrees_with_reference(candidate: dict | None, reference: dict) -> bool:
    """True when the oracle's numbers for a candidate match the reference's at a relative 1e-9."""
    return candidate is not None and _same(candidate, reference)


# --- running ------------------------------------------------------------------------------------------


def write_mutant(mutant: Mutant, root: Path, reference_dir: Path = REFERENCE_DIR) -> Path:
    """A submission folder holding the reference package with `mutant`'s file replaced; returns the folder."""
    folder = root / mutant.id
    shutil.copytree(reference_dir / PACKAGE, folder / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / mutant.file).write_text(mutant.source, encoding="utf-8")
    return folder


def evaluate(mutants: list[Mutant], assignment: Assignment | None = None, workers: int = WORKERS) -> list[Outcome]:
    """Classify every mutant with the oracle and grade all of them in one judging session."""
    from grader.pipeline import judge, probe_submission

    assignment = assignment or load_assignment()
    ops = oracle_ops(assignment)
    root = Path(tempfile.mkdtemp(prefix="micrograde-selftest-"))
    try:
        reference = run_oracle(REFERENCE_DIR, ops)
        if reference is None:
            raise RuntimeError("the oracle fails on the reference itself")
        folders = [write_mutant(m, root) for m in mutants]
        with ThreadPoolExecutor(workers) as pool:
            answers = list(pool.map(lambda folder: run_oracle(folder, ops), folders))
            probed = list(pool.map(lambda pair: probe_submission(pair[0], pair[1].id, assignment=assignment),
                                   zip(folders, mutants)))
        results = judge(probed, assignment)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    outcomes = []
    for mutant, answer, result in zip(mutants, answers, results):
        outcomes.append(Outcome(
            mutant=mutant,
            equivalent=agrees_with_reference(answer, reference),
            killed=result.score < result.max_score,
            score=result.score,
            max_score=result.max_score,
            oracle_note="errors or hangs" if answer is None else "",
        ))
    return outcomes


def summarize(outcomes: list[Outcome], seconds: float = 0.0) -> Report:
    """Counts, the kill rate among non-equivalent mutants, and the survivors by id, file:line and description."""
    def row(o: Outcome) -> dict:
        return {"id": o.mutant.id, "file": o.mutant.file, "line": o.mutant.line,
                "description": o.mutant.description, "score": o.score, "max_score": o.max_score}

    live = [o for o in outcomes if not o.equivalent]
    killed = [o for o in live if o.killed]
    return Report(
        total=len(outcomes),
        equivalent=len(outcomes) - len(live),
        non_equivalent=len(live),
        killed=len(killed),
        kill_rate=len(killed) / len(live) if live else 1.0,
        survivors=[row(o) for o in live if not o.killed],
        equivalents=[row(o) for o in outcomes if o.equivalent],
        seconds=seconds,
    )


def selftest(limit: int | None = None, assignment: Assignment | None = None) -> tuple[Report, list[Outcome]]:
    """Generate, sample, evaluate and summarize; the report's `seconds` is the wall time of the whole run."""
    import time

    start = time.monotonic()
    assignment = assignment or load_assignment()
    mutants = sample_mutants(generate_mutants(parts={part.id for part in assignment.parts}), limit)
    outcomes = evaluate(mutants, assignment)
    return summarize(outcomes, time.monotonic() - start), outcomes
