"""Checks of the training loop, run on a known-good model so that engine bugs cost nothing here."""
from grader.findings import Failed
from grader.judge.train import first_loss_finding, returns_finding, trajectory_finding, update_finding
from grader.judge.train import train_case as case

PART = "train"


def raise_if(found):
    if found:
        raise Failed(found)


def test_returns_one_loss_per_step(evidence):
    """train() returns a list with one float per step (20 by default), the first the loss of the model given."""
    # The first loss ties the list to this model: a list of the right length alone is no evidence.
    defaults = case(evidence, "defaults")
    raise_if(returns_finding(evidence, defaults) or first_loss_finding(evidence, defaults))


def test_loss_is_sum_of_squares(evidence):
    """The first loss, before any update, is the sum of squared errors."""
    raise_if(first_loss_finding(evidence, case(evidence, "one-step")))


def test_one_step_update(evidence):
    """One step moves every parameter by -lr times its gradient."""
    raise_if(update_finding(evidence, case(evidence, "one-step")))


def test_default_run(evidence):
    """train(model, xs, ys) follows the reference loop for 20 steps with lr=0.05."""
    raise_if(trajectory_finding(evidence, case(evidence, "defaults")))


def test_custom_steps_and_lr(evidence):
    """train(model, xs, ys, steps=6, lr=0.1) follows the reference loop."""
    raise_if(trajectory_finding(evidence, case(evidence, "custom")))
