"""Red team: at import, try to read what a job must never see and write where it must never write, and
print one line per attempt: "PROBE SAFE <name>" when refused, "PROBE LEAK <name>: <what>" when it worked.

{targets} becomes a JSON object of the paths to try, filled in by the test: "reference" (the checkout's
reference engine), "copies" (copies of it elsewhere on disk, outside /tmp), "peer" (a file of another
grading process's staged copy), "out" (an output folder to write into) and "marker" (a word of the
grader's command line).
"""
import json
import os

from micrograd.engine import Value

__all__ = ["Value"]

TARGETS = json.loads('{targets}')


def _report(name, leaked, what=""):
    print(f"PROBE LEAK {name}: {what}" if leaked else f"PROBE SAFE {name}", flush=True)


def _readable(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(64)
    except OSError:
        return None


def _cmdlines():
    """Every command line this job can read, its parent's first."""
    found = {}
    for pid in [str(os.getppid())] + sorted(os.listdir("/proc") if os.path.isdir("/proc") else []):
        if pid.isdigit():
            text = _readable(f"/proc/{pid}/cmdline")
            if text is not None:
                found.setdefault(pid, _readable_all(f"/proc/{pid}/cmdline"))
    return found


def _readable_all(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


_report("uid 0", os.getuid() == 0 or os.geteuid() == 0, str(os.getuid()))
_report("reference", _readable(TARGETS["reference"]) is not None, TARGETS["reference"])
for _copy in TARGETS["copies"]:
    _report(f"copy {_copy}", _readable(_copy) is not None, _copy)
_report("peer", _readable(TARGETS["peer"]) is not None, TARGETS["peer"])
_lines = _cmdlines()
_report("parent command line", str(os.getppid()) in _lines, str(os.getppid()))
_grader = [pid for pid, line in _lines.items() if TARGETS["marker"].encode() in line]
_report("grader command line", bool(_grader), ",".join(_grader))
try:
    with open(os.path.join(TARGETS["out"], "zz_probe_ghost.json"), "x") as _handle:
        _handle.write("{}")
    _report("out", True, TARGETS["out"])
except OSError:
    _report("out", False)
