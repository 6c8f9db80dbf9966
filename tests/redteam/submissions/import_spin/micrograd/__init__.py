"""Red team: a busy loop at import, bounded at 30 s of wall-clock time."""
import time

from micrograd.engine import Value

__all__ = ["Value"]

_deadline = time.monotonic() + 30
while time.monotonic() < _deadline:
    pass
