"""Red team: ignore the polite signals, start a helper (40 s) that ignores them too, then hang for 30 s."""
import signal
import subprocess
import sys
import time

from micrograd.engine import Value

__all__ = ["Value"]

MARK = "micrograde-redteam-{run}-sigterm_ignorer"
POLITE = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
HELPER = ("import signal, time\n"
          "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
          "    signal.signal(s, signal.SIG_IGN)\n"
          f"time.sleep(40)  # {MARK}\n")

try:
    for _signal in POLITE:
        signal.signal(_signal, signal.SIG_IGN)
except ValueError:  # not the main thread: block them in this one instead
    signal.pthread_sigmask(signal.SIG_BLOCK, POLITE)
_helper = subprocess.Popen([sys.executable or "python3", "-c", HELPER], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(30)
