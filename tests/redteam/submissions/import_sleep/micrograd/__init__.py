"""Red team: sleeps 30 s at import."""
import time

from micrograd.engine import Value

__all__ = ["Value"]

time.sleep(30)
