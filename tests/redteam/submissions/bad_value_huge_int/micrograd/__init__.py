"""Bad numbers: exp gives a Value whose data is an int too large for a float; everything else is the reference."""
from micrograd.engine import Value

__all__ = ["Value"]

_exp = Value.exp


def _exp_with_bad_data(self):
    out = _exp(self)
    out.data = 10**400
    return out


Value.exp = _exp_with_bad_data
