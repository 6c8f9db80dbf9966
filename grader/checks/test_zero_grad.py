"""Checks of `Module.zero_grad()`, on a module whose parameters hold random gradients."""
from grader.judge.zero_grad import data_finding, reset_finding

PART = "zero_grad"


def test_resets_every_gradient(evidence):
    """Every parameter's grad is 0 afterwards."""
    for case in evidence.cases(PART):
        if found := reset_finding(evidence, case):
            raise found


def test_keeps_values(evidence):
    """The parameters' values are untouched."""
    for case in evidence.cases(PART):
        if found := data_finding(evidence, case):
            raise found
