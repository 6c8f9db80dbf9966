"""Red team: Value.backward is a busy loop, bounded at 30 s of wall-clock time."""
import time

from micrograd.engine import Value

__all__ = ["Value"]


def _spin(self):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pass


Value.backward = _spin
