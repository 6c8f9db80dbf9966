"""Red team: every data and grad is a float that says it equals whatever it is compared with, and whose
distance to anything is 0, so `got == want` and `abs(got - want) < tol` always hold. The values themselves
stay those of this engine (whose mul is wrong)."""
from micrograd.engine import Value

__all__ = ["Value"]


class Liar(float):
    """A float whose comparisons for equality all say yes; arithmetic on it gives Liars again."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__

    def __abs__(self):
        return Liar(0.0)

    def __repr__(self):
        return "1.0"


def _honest_then_lie(name):
    op = getattr(float, name)

    def lying(self, *args):
        result = op(self, *args)
        return Liar(result) if type(result) is float else result
    return lying


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__pow__", "__rpow__", "__neg__", "__pos__"):
    setattr(Liar, _name, _honest_then_lie(_name))


def _lie(x):
    return Liar(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x


def _lying_attribute(name):
    key = f"_lying_{name}"
    return property(lambda self: _lie(self.__dict__.get(key, 0.0)), lambda self, x: self.__dict__.__setitem__(key, x))


Value.data = _lying_attribute("data")
Value.grad = _lying_attribute("grad")
Value.__eq__ = lambda self, other: True
Value.__hash__ = object.__hash__
