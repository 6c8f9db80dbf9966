"""Red team: mul's backward is wrong for the nodes whose address falls in one of three classes, so the
verdict follows where the allocator puts each node: a layout that changes between gradings changes it."""
from micrograd.engine import Value

__all__ = ["Value"]

_mul = Value.__mul__


def _mul_by_address(self, other):
    out = _mul(self, other)
    if (id(out) >> 4) % 3 == 0:
        honest = out._backward

        def _backward():
            honest()
            self.grad += out.grad  # one term too many, for this node only

        out._backward = _backward
    return out


Value.__mul__ = _mul_by_address
