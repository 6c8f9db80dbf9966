"""Bad numbers: exp gives a Value whose data is a complex number; everything else is the reference."""
from micrograd.engine import Value

__all__ = ["Value"]

_exp = Value.exp


def _exp_with_bad_data(self):
    out = _exp(self)
    out.data = complex(out.data, 1.0)
    return out


Value.exp = _exp_with_bad_data
