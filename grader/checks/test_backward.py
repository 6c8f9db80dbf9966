"""Checks of `Value.backward()`, on graphs whose `_backward` closures are the grader's own, so that only
the topological order, the visits and the seed are measured."""
from grader.findings import Failed
from grader.judge.backward import gradient_finding, order_finding, seed_finding, visits_finding

PART = "backward"


def first_finding(evidence, judge, only=None):
    for case in evidence.cases(PART, kind="backward"):
        if only is None or case.probe["id"] == only:
            found = judge(evidence, case)
            if found:
                raise Failed(found)


def test_seeds_output(evidence):
    """backward() starts from d(out)/d(out) = 1."""
    first_finding(evidence, seed_finding)


def test_each_node_once(evidence):
    """Every node's `_backward` runs exactly once, even when the node is shared."""
    first_finding(evidence, visits_finding)


def test_reverse_topological_order(evidence):
    """A node passes its gradient on only after all the nodes that use it have passed theirs."""
    first_finding(evidence, order_finding)


def test_gradients(evidence):
    """Diamond, fan-out and a lone leaf get the right gradients."""
    for probe_id in ("backward/diamond", "backward/fan-out", "backward/single"):
        first_finding(evidence, gradient_finding, only=probe_id)


def test_deep_chain(evidence):
    """A chain of thousands of nodes works (the grader raises the recursion limit, so recursion is fine)."""
    first_finding(evidence, gradient_finding, only="backward/chain")
