"""Red team: Value.backward recurses two million Python frames deep under a raised recursion limit."""
import sys

from micrograd.engine import Value

__all__ = ["Value"]

DEPTH = 2_000_000
_backward = Value.backward


def _dive(n):
    return 0 if n == 0 else _dive(n - 1) + 1


def _deep_backward(self):
    sys.setrecursionlimit(DEPTH + 1000)
    _dive(DEPTH)
    return _backward(self)


Value.backward = _deep_backward
