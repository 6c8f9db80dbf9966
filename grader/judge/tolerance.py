"""When two numbers agree. One rule, `|got - want| <= atol + rtol * |want|`, as torch.autograd.gradcheck uses,
so neither tiny gradients (saturated tanh) nor huge ones (x**-2 near 0) are judged unfairly."""
from __future__ import annotations

import math

H = 1e-6  # central finite-difference step (the runners use the same)

# Student's backward against a central difference of the student's own forward (float64, h = 1e-6):
# correct engines land near 1e-9; gradcheck's defaults leave room for round-off in the difference.
NUMERICAL = {"rtol": 1e-3, "atol": 1e-5}
# Student against the reference engine: the same formulas agree to rounding, whatever the order of sums.
REFERENCE = {"rtol": 1e-7, "atol": 1e-9}
# Twenty training steps amplify rounding a little more.
TRAINING = {"rtol": 1e-6, "atol": 1e-8}


def close(got, want, rtol: float, atol: float) -> bool:
    if not isinstance(got, float) or not isinstance(want, float):
        return False
    if math.isnan(got) or math.isnan(want):
        return False
    if math.isinf(want) or math.isinf(got):
        return got == want
    return abs(got - want) <= atol + rtol * abs(want)


def all_close(got, want, rtol: float, atol: float) -> bool:
    if not isinstance(got, list) or not isinstance(want, list) or len(got) != len(want):
        return False
    return all(close(g, w, rtol, atol) for g, w in zip(got, want))


def central_difference(plus: float, minus: float) -> float:
    return (plus - minus) / (2 * H)
