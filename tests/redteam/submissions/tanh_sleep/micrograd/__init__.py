"""Red team: every tanh sleeps 30 s before answering."""
import time

from micrograd.engine import Value

__all__ = ["Value"]

_tanh = Value.tanh


def _slow_tanh(self):
    time.sleep(30)
    return _tanh(self)


Value.tanh = _slow_tanh
