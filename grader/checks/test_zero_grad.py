"""Checks of `zero_grad()`, on the student's own MLP, Layer and Neuron whose parameters hold gradients."""
from grader.findings import Failed
from grader.judge.zero_grad import data_finding, reset_finding, zero_grad_cases

PART = "zero_grad"


def test_resets_every_gradient(evidence):
    """Every parameter's grad is 0 afterwards."""
    for case in zero_grad_cases(evidence, PART):
        if found := reset_finding(evidence, case):
            raise Failed(found)


def test_keeps_values(evidence):
    """The parameters' values are untouched."""
    for case in zero_grad_cases(evidence, PART):
        if found := data_finding(evidence, case):
            raise Failed(found)
