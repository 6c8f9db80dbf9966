"""Red team: each call of Value.backward keeps 2 GiB more of touched memory, up to 6 GiB in all."""
from micrograd.engine import Value

__all__ = ["Value"]

CHUNK = 512 * 2**20
PER_CALL = 4
LIMIT = 6 * 2**30
_hoard = []
_backward = Value.backward


def _touched(size):
    """`size` bytes with every page written, so they count as used memory and not only as address space."""
    block = bytearray(size)
    block[::4096] = b"x" * len(range(0, size, 4096))
    return block


def _greedy_backward(self):
    for _ in range(PER_CALL):
        if len(_hoard) * CHUNK >= LIMIT:
            break
        _hoard.append(_touched(CHUNK))
    return _backward(self)


Value.backward = _greedy_backward
