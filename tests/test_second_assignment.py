"""A second assignment adds two ops, sigmoid and log, by their declarations in grader/parts.py, their
methods in reference/ and their parts in assignments/activations/assignment.toml: nothing else. The
reference gets full marks there, and a mutant of every bug class of each new op is caught in that op and
named."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import corpus_tools
import pytest

from grader.assignment import load_assignment
from grader.parts import OPS
from grader.pipeline import judge, probe_submission

ASSIGNMENT = load_assignment("activations")

SIGMOID_BODY = "            self.grad += s * (1 - s) * out.grad\n"
LOG_BODY = "            self.grad += (1 / self.data) * out.grad\n"
# (op, bug class, find, replace): each a single edit of reference/micrograd/engine.py.
MUTANTS = [
    ("sigmoid", "not_started", SIGMOID_BODY, '            raise NotImplementedError("Task sigmoid")\n'),
    ("sigmoid", "missing", "    def sigmoid(self):\n", "    def sigmoid_(self):\n"),
    ("sigmoid", "returns_none", "        out = Value(s, (self,), 'sigmoid')\n",
     "        out = Value(s, (self,), 'sigmoid')\n        return None\n"),
    ("sigmoid", "not_connected", "        out = Value(s, (self,), 'sigmoid')\n", "        out = Value(s, (), 'sigmoid')\n"),
    ("sigmoid", "wrong_forward", "        s = 1 / (1 + math.exp(-self.data))\n", "        s = 1 / (1 + math.exp(self.data))\n"),
    ("sigmoid", "no_gradient", SIGMOID_BODY, "            pass\n"),
    ("sigmoid", "wrong_node", SIGMOID_BODY, "            out.grad += s * (1 - s) * out.grad\n"),
    ("sigmoid", "overwrite", SIGMOID_BODY, "            self.grad = s * (1 - s) * out.grad\n"),
    ("sigmoid", "chain_rule_dropped", SIGMOID_BODY, "            self.grad += s * (1 - s)\n"),
    ("sigmoid", "wrong_derivative", SIGMOID_BODY, "            self.grad += s * out.grad\n"),
    ("log", "not_started", LOG_BODY, '            raise NotImplementedError("Task log")\n'),
    ("log", "missing", "    def log(self):\n", "    def ln(self):\n"),
    ("log", "not_connected", "        out = Value(math.log(self.data), (self,), 'log')\n",
     "        out = Value(math.log(self.data), (), 'log')\n"),
    ("log", "wrong_forward", "        out = Value(math.log(self.data), (self,), 'log')\n",
     "        out = Value(math.log10(self.data), (self,), 'log')\n"),
    ("log", "overwrite", LOG_BODY, "            self.grad = (1 / self.data) * out.grad\n"),
    ("log", "chain_rule_dropped", LOG_BODY, "            self.grad += 1 / self.data\n"),
    ("log", "wrong_derivative", LOG_BODY, "            self.grad += math.log(self.data) * out.grad\n"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("activations")
    jobs = [("reference", corpus_tools.REPO_DIR / "reference")]
    for op, bug, find, replace in MUTANTS:
        entry = {"name": f"{op}_{bug}", "file": "engine.py", "find": find, "replace": replace}
        jobs.append((entry["name"], corpus_tools.build_mutant(entry, root / entry["name"])))
    with ThreadPoolExecutor(max_workers=2) as pool:
        probed = list(pool.map(lambda job: probe_submission(job[1], name=job[0], assignment=ASSIGNMENT), jobs))
    return {result.submission: result for result in judge(probed, ASSIGNMENT)}


def test_the_new_ops_are_only_declared():
    assert {"sigmoid", "log"} <= set(OPS)
    assert [part.id for part in ASSIGNMENT.parts if part.id in ("sigmoid", "log")] == ["sigmoid", "log"]


def test_reference_gets_full_marks_with_the_new_ops(graded):
    result = graded["reference"]
    assert result.score == result.max_score == 100, [(t.name, t.message) for t in result.tests if t.status != "passed"]
    graded_parts = {t.part for t in result.tests}
    assert {"sigmoid", "log"} <= graded_parts
    assert sum(t.part == "sigmoid" for t in result.tests) >= 5


@pytest.mark.parametrize("op, bug", [(op, bug) for op, bug, _, _ in MUTANTS], ids=lambda x: x)
def test_each_bug_class_of_a_new_op_is_caught_and_named(graded, op, bug):
    result = graded[f"{op}_{bug}"]
    part = next(p for p in result.parts if p.id == op)
    assert part.score < part.max_score, f"{op}_{bug} was not caught"
    charged = {p.id for p in result.parts if p.score < p.max_score}
    assert charged == {op}, charged
    assert part.diagnosis == bug, part.message
