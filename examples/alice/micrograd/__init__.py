"""Alice's micrograd."""
from micrograd.engine import Value

__all__ = ["Value"]
