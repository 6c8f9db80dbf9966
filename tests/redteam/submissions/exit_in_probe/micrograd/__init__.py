"""Red team: exit in the middle of probes: os._exit(0) in backward, sys.exit(0) after every addition."""
import os
import sys

from micrograd.engine import Value

__all__ = ["Value"]

_add = Value.__add__


def _add_then_exit(self, other):
    _add(self, other)
    sys.exit(0)


def _exit_backward(self):
    os._exit(0)


Value.__add__ = _add_then_exit
Value.backward = _exit_backward
