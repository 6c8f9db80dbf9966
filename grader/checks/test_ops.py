"""Checks of the operations: each op in isolation, with plain numbers, and inside whole graphs."""
import pytest

from grader.findings import Failed
from grader.judge.ops import (
    blame_composite,
    blame_graph,
    forward_finding,
    gradient_finding,
    graph_blame,
    link_finding,
    numerical_finding,
    part_is_broken,
)


def first_finding(evidence, part, judge, check):
    for case in evidence.cases(part, kind="op", check=check):
        found = blame_composite(evidence, case, part, judge(evidence, case, part))
        if found:
            raise Failed(found)


@pytest.mark.op_cases(kind="op", check="value")
def test_forward(evidence, part):
    """The op returns a Value holding the right number."""
    first_finding(evidence, part, forward_finding, "value")


@pytest.mark.op_cases(kind="op", check="value")
def test_gradient(evidence, part):
    """With out.grad != 1 and fresh inputs, the inputs' grads match the reference engine."""
    first_finding(evidence, part, gradient_finding, "value")


@pytest.mark.op_cases(kind="op", check="value")
def test_numerical(evidence, part):
    """The backward pass agrees with a central difference of the student's own forward (h = 1e-6)."""
    first_finding(evidence, part, numerical_finding, "value")


@pytest.mark.op_cases(kind="op", check="accumulate")
def test_accumulates(evidence, part):
    """Gradients add up: into a grad that already holds something, and from both uses of `a + a`."""
    first_finding(evidence, part, gradient_finding, "accumulate")


@pytest.mark.op_cases(kind="op", check="value")
def test_connected(evidence, part):
    """The inputs are reachable from the output through `_prev`, so a topological sort reaches them."""
    first_finding(evidence, part, link_finding, "value")


@pytest.mark.op_cases(kind="op", check="number")
def test_plain_numbers(evidence, part):
    """A plain int/float on either side works: a + 2.0, 2.0 + a, 3.0 * a, 1 - a, 2 / a."""
    def judge(ev, case, p):
        return forward_finding(ev, case, p) or gradient_finding(ev, case, p)
    first_finding(evidence, part, judge, "number")


@pytest.mark.op_cases(kind="graph")
def test_graphs(evidence, part):
    """In whole graphs with reused nodes (fixed classics and random graphs from a fixed seed), no gradient
    goes wrong first at this op."""
    cases = [case for case in evidence.cases(kind="graph") if part in case.probe["parts"]]
    for case in cases:
        blamed = graph_blame(evidence, case)
        if blamed and blamed[0] == part:
            raise Failed(blame_graph(evidence, part, blamed[1]))
    # No pass without evidence: if no graph with this op came out right, and the op fails on its own, this
    # check fails with it (whatever op the wrong graphs were blamed on).
    if cases and not any(graph_blame(evidence, case) is None for case in cases) and part_is_broken(evidence, part):
        raise Failed(blame_graph(evidence, part, graph_blame(evidence, cases[0])[1]))
