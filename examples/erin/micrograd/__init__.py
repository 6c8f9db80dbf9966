"""micrograd: a tiny scalar-valued autograd engine and a neural-net library on top of it."""
from micrograd.engine import Value

__all__ = ["Value"]
