"""Bad numbers: exp gives a Value whose data is a string; everything else is the reference."""
from micrograd.engine import Value

__all__ = ["Value"]

_exp = Value.exp


def _exp_with_bad_data(self):
    out = _exp(self)
    out.data = str(out.data)
    return out


Value.exp = _exp_with_bad_data
