"""Judging the training loop: losses and weights against the reference loop, and the bug that explains
a difference, found among known wrong loops: the reference's own loop with one step changed (answers the
reference gives, see `grader.reference.known_loops`) and losses other than the sum of squares, computed
here on the kit."""
from __future__ import annotations

import json
from functools import lru_cache

from grader.judge import statements
from grader.judge.backward import error_finding
from grader.judge.evidence import Case, Evidence, Finding
from grader.judge.ops import fmt
from grader.judge.tolerance import TRAINING, all_close, close
from grader.reference import known_loops, model_for

# Losses a loop may compute instead of the sum of squared errors, as functions of (target, prediction) pairs.
WRONG_LOSSES = {
    "mean_of_squares": lambda pairs: sum((yp - y) ** 2 for y, yp in pairs) * (1.0 / len(pairs)),
    "sum_of_errors": lambda pairs: sum(yp - y for y, yp in pairs),
    "last_error_only": lambda pairs: (pairs[-1][1] - pairs[-1][0]) ** 2,
}
LOSS_WORDS = {"mean_of_squares": "the mean of the squared errors", "sum_of_errors": "the sum of unsquared errors",
              "last_error_only": "the squared error of the last example only"}


def known_loop(case: Case, variant: str) -> tuple[list, list]:
    """Losses and final weights of the reference loop with one change (a `grader.reference.LOOP_VARIANTS` name):
    shipped with the answers where there is no reference/, else run only when a loop needs explaining."""
    if "loops" not in case.reference:
        case.reference["loops"] = known_loops(case.probe)  # kept with the answer: the next check reuses it
    loop = case.reference["loops"][variant]
    return list(loop["losses"]), list(loop["weights"])


def first_wrong_loss(probe: dict, loss: str) -> float:
    """The first loss (before any update) of a loop computing the WRONG_LOSSES `loss`, on the probe's model."""
    model_and_data = {key: probe[key] for key in ("nin", "nouts", "weights", "xs", "ys")}
    return _first_wrong_losses(json.dumps(model_and_data, sort_keys=True))[loss]


@lru_cache(maxsize=16)
def _first_wrong_losses(model_and_data: str) -> dict[str, float]:
    probe = json.loads(model_and_data)
    model = model_for(probe)
    pairs = list(zip(probe["ys"], [model(list(x)) for x in probe["xs"]]))
    return {name: float(loss(pairs).data) for name, loss in WRONG_LOSSES.items()}


def at(ev: Evidence, case: Case, locator, *args) -> tuple[str, int] | None:
    """The statement of the student's train() that `locator` finds, else train's first line."""
    return statements.blame(ev, case.student.get("where"), locator, *args)


def first_difference(losses: list, want: list) -> int | None:
    """The first step whose loss differs from the reference's (never one that agrees)."""
    return next((i for i, (g, w) in enumerate(zip(losses, want)) if not close(g, w, **TRAINING)), None)


def wrong_type_finding(ev: Evidence, case: Case) -> Finding | None:
    """train() returned something other than a list of floats: None (no `return`), or the loss Values."""
    error = case.student.get("error") or {}
    if error.get("kind") != "not_a_number" or error.get("where"):
        return None
    message = str(error.get("message", ""))
    nothing = message.startswith("train returned")
    text = (f"`{case.label}`: {message}." if nothing else
            f"`{case.label}` returned losses that are not floats ({message}): record `loss.data`, not `loss`.")
    return Finding("train_wrong_return", text, case=case.label,
                   where=at(ev, case, statements.return_line if nothing else statements.record_line))


def returns_finding(ev: Evidence, case: Case) -> Finding | None:
    found = wrong_type_finding(ev, case) or error_finding(ev, case)
    if found:
        return found
    losses, want = case.student.get("losses"), case.reference["losses"]
    if isinstance(losses, list) and len(losses) == len(want):
        return None
    return Finding("wrong_losses", f"`{case.label}` returned {len(losses or [])} losses, expected "
                   f"{len(want)} (one float per step).", case=case.label, expected=len(want), got=len(losses or []),
                   where=at(ev, case, statements.steps_line))


def first_loss_finding(ev: Evidence, case: Case) -> Finding | None:
    found = returns_finding(ev, case)
    if found:
        return found
    got, want = case.student["losses"][0], case.reference["losses"][0]
    if close(got, want, **TRAINING):
        return None
    after = known_loop(case, "two_steps")[0]
    if len(after) > 1 and close(got, after[1], **TRAINING):
        return Finding("wrong_losses", f"The first loss is {fmt(got)}, the loss *after* the first update; record "
                       f"each step's loss before its update ({fmt(want)}).", case=case.label, expected=want, got=got,
                       where=at(ev, case, statements.record_line))
    for name, words in LOSS_WORDS.items():
        if close(got, first_wrong_loss(case.probe, name), **TRAINING):
            return Finding("loss_not_sum_of_squares", f"The first loss is {fmt(got)}, which is {words}; the sum of "
                           f"squared errors is {fmt(want)}.", case=case.label, expected=want, got=got,
                           where=at(ev, case, statements.loss_line))
    return Finding("loss_not_sum_of_squares", f"The first loss (before any update) is {fmt(got)}, expected the sum of "
                   f"squared errors {fmt(want)}.", case=case.label, expected=want, got=got,
                   where=at(ev, case, statements.loss_line))


def update_finding(ev: Evidence, case: Case) -> Finding | None:
    """One step: the change of every weight must be -lr times its gradient."""
    found = first_loss_finding(ev, case)  # a different loss has different gradients: name that first
    if found:
        return found
    start = case.probe["weights"]
    got, want = case.student.get("weights"), case.reference["weights"]
    if all_close(got, want, **TRAINING):
        return None
    moved = [g - s for g, s in zip(got or [], start)]
    expected = [w - s for w, s in zip(want, start)]
    scale = sum(m * e for m, e in zip(moved, expected)) / (sum(e * e for e in expected) or 1.0)
    proportional = all(close(m, scale * e, rtol=1e-5, atol=1e-9) for m, e in zip(moved, expected))
    lr = case.probe["lr"]
    where = at(ev, case, statements.update_line, ev.attribute("data"))
    if proportional and close(scale, 0.0, rtol=0.0, atol=1e-9):
        events = case.student.get("events") or []
        reset_by_hand = statements.located(ev, case.student.get("where"), statements.reset_after_backward_line)
        if "backward" in events and ("zero_grad" in events[events.index("backward"):] or reset_by_hand):
            return Finding("zero_grad_after_backward", f"After one step with lr={lr}, no parameter moved: the "
                           "gradients were reset after backward() and before the update.", case=case.label,
                           where=reset_by_hand or at(ev, case, statements.zero_grad_line))
        if "backward" not in events:
            return Finding("wrong_losses", f"After one step with lr={lr}, no parameter moved: backward() never ran, "
                           "so every gradient stayed 0.", case=case.label,
                           where=at(ev, case, statements.backward_mention_line))
        return Finding("wrong_losses", f"After one step with lr={lr}, no parameter moved.", case=case.label, where=where)
    if proportional and close(scale, -1.0, rtol=1e-5, atol=0.0):
        return Finding("wrong_sign_update", f"After one step with lr={lr}, every parameter moved by +lr·grad instead "
                       "of −lr·grad.", case=case.label, where=where)
    if proportional and scale < 0:
        return Finding("wrong_sign_update", f"After one step with lr={lr}, every parameter moved by "
                       f"+{fmt(-scale * lr)}·grad: up the gradient, where −lr·grad belongs.", case=case.label,
                       where=where)
    if proportional and scale > 0:
        return Finding("lr_ignored", f"train(..., lr={lr}) moved the parameters by {fmt(scale * lr)}·grad: the "
                       f"update used a step of {fmt(scale * lr)} instead of lr={lr}.", case=case.label, where=where)
    i = next(i for i, (g, w) in enumerate(zip(got or [], want)) if not close(g, w, **TRAINING)) if got else 0
    return Finding("wrong_losses", f"After one step with lr={lr}, parameter {i} is {fmt(got[i] if got else None)}, "
                   f"expected {fmt(want[i])}.", case=case.label, expected=want[i], got=got[i] if got else None,
                   where=where)


def train_case(ev: Evidence, name: str) -> Case:
    return next(c for c in ev.cases("train") if c.probe["id"] == f"train/{name}")


def never_resets(ev: Evidence, case: Case) -> bool:
    """train() neither called zero_grad (the child records each call) nor resets a `.grad` itself."""
    if "zero_grad" in (case.student.get("events") or []):
        return False
    return statements.located(ev, case.student.get("where"), statements.resets_line, ev.attribute("grad")) is None \
        and isinstance(case.student.get("where"), list)


def trajectory_finding(ev: Evidence, case: Case) -> Finding | None:
    """Every step's loss and the final weights match the reference loop."""
    found = returns_finding(ev, case)
    if found:
        return found
    losses, weights = case.student["losses"], case.student.get("weights")
    if all_close(losses, case.reference["losses"], **TRAINING) and all_close(weights, case.reference["weights"],
                                                                              **TRAINING):
        return None
    where = at(ev, case, statements.update_line, ev.attribute("data"))
    no_reset = known_loop(case, "no_zero_grad")
    first = first_difference(losses, case.reference["losses"])
    if all_close(losses, no_reset[0], **TRAINING) and first is not None:
        return Finding("no_zero_grad", f"With {case.label}, loss {first + 1} is {fmt(losses[first])}, expected "
                       f"{fmt(case.reference['losses'][first])}: your losses match a loop that never resets the "
                       "gradients.", case=case.label, expected=case.reference["losses"][first], got=losses[first],
                       where=at(ev, case, statements.zero_grad_line))
    cause = first_loss_finding(ev, case)
    if cause:
        return cause
    if first and never_resets(ev, case) and not update_finding(ev, train_case(ev, "one-step")):
        # The first step is right (its gradients start at 0) and the later ones are not: they accumulate.
        return Finding("no_zero_grad", f"With {case.label}, loss {first + 1} is {fmt(losses[first])}, expected "
                       f"{fmt(case.reference['losses'][first])}: the first step is right, the later ones are not, "
                       "and nothing resets the gradients between steps.", case=case.label,
                       expected=case.reference["losses"][first], got=losses[first],
                       where=at(ev, case, statements.zero_grad_line))
    i = first
    if i is None:
        return Finding("wrong_losses", f"With {case.label}, the losses match but the final weights do not: the "
                       "returned losses are not the ones of the steps taken.", case=case.label,
                       where=at(ev, case, statements.record_line))
    return Finding("wrong_losses", f"With {case.label}, loss {i + 1} is {fmt(losses[i])}, expected "
                   f"{fmt(case.reference['losses'][i])}.", case=case.label, expected=case.reference["losses"][i],
                   got=losses[i], where=where)
