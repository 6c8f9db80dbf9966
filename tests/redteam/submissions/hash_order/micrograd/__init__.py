"""Red team (of chance rather than malice): whether this engine breaks an op, and which, depends on the
iteration order of a set of strings, that is on the interpreter's hash seed. With the seed fixed, every run
breaks the same op (or none)."""
from micrograd.engine import Value

__all__ = ["Value"]

METHODS = {"tanh": "tanh", "exp": "exp", "relu": "relu", "pow": "__pow__", "neg": "__neg__", "div": "__truediv__",
           "sub": "__sub__", "mul": "__mul__"}
_first = next(iter(set(METHODS)))
if _first in ("tanh", "exp", "relu", "pow"):
    _broken = getattr(Value, METHODS[_first])

    def _off_by_one(self, *args):
        out = _broken(self, *args)
        out.data += 1.0
        return out

    setattr(Value, METHODS[_first], _off_by_one)
print("first", _first, hash("micrograde"))
