"""Red team: at import, four forked processes each touch 1.5 GiB (each under the per-process limit, 6 GiB
together) and hold it for at most 20 s; the child waits until they all hold it (or 20 s pass) before it
goes on answering probes."""
import os
import select
import time

from micrograd.engine import Value

__all__ = ["Value"]

HOGS = 4
SIZE = 3 * 2**29
SECONDS = 20


def _hog(ready):
    block = bytearray(SIZE)
    block[::4096] = b"x" * len(range(0, SIZE, 4096))
    os.write(ready, b"!")
    time.sleep(SECONDS)


_read, _write = os.pipe()
for _ in range(HOGS):
    if os.fork() == 0:
        try:
            _hog(_write)
        finally:
            os._exit(0)
os.close(_write)
_held, _deadline = 0, time.monotonic() + SECONDS
while _held < HOGS and time.monotonic() < _deadline:
    if not select.select([_read], [], [], max(0.0, _deadline - time.monotonic()))[0]:
        break
    _got = os.read(_read, HOGS)
    if not _got:  # every hog has exited or been stopped
        break
    _held += len(_got)
print(f"micrograde-redteam memory: {_held} of {HOGS} processes held {SIZE >> 20} MiB each", flush=True)
