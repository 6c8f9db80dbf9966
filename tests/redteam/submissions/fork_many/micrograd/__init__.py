"""Red team: 28 sleeping processes and 2 bare forks at import, then a 30 s hang. Every process exits within 40 s."""
import os
import subprocess
import sys
import time

from micrograd.engine import Value

__all__ = ["Value"]

MARK = "micrograde-redteam-{run}-fork_many"
SLEEPER = f"import time; time.sleep(40)  # {MARK}"

_sleepers = [subprocess.Popen([sys.executable or "python3", "-c", SLEEPER], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(28)]
for _ in range(2):
    if os.fork() == 0:
        time.sleep(40)
        os._exit(0)
time.sleep(30)
