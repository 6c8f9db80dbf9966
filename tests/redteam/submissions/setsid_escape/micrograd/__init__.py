"""Red team: at import, leave a sleeper (45 s) in a session of its own, then carry on as the template.

A setsid() double fork: the sleeper is not in the child's process group, so killing that group misses it,
and its parent has exited, so it is nobody's child.
"""
import os
import sys

from micrograd.engine import Value

__all__ = ["Value"]

MARK = "micrograde-redteam-{run}-setsid_escape"
PYTHON = sys.executable or "python3"


def _escape(seconds):
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                os.execv(PYTHON, [PYTHON, "-c", f"import time; time.sleep({seconds})  # {MARK}"])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


_escape(45)
