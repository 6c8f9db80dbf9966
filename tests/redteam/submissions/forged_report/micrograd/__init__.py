"""Red team: find the running `micrograde grade` whose --out folder is a red-team one, and create in it a
report.json (and state.json) of full marks for this student and for a student who does not exist.
Only folders whose path holds this run's red-team mark are touched, and only new files are created."""
import json
import os
from pathlib import Path

from micrograd.engine import Value

__all__ = ["Value"]

FOLDER_MARK = "micrograde-redteam-{run}"
STUDENTS = ("forged_report", "zz_redteam_ghost")


def _report(student):
    return {"submission": student, "score": 100.0, "max_score": 100.0, "tests": [], "parts": [],
            "status": "graded", "notes": [], "error": None, "grader_version": "0", "assignment": "micrograd"}


def _grade_commands():
    """(pid, argv) of every process whose command line is a `grade ... --out ...` run."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            argv = Path(f"/proc/{name}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if "grade" in argv and "--out" in argv[:-1]:
            yield name, argv


def _create(path, data):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2) + "\n")
    except OSError:
        pass


for _pid, _argv in _grade_commands():
    _out = Path(_argv[_argv.index("--out") + 1])
    try:
        _out = Path(os.readlink(f"/proc/{_pid}/cwd")) / _out
    except OSError:
        continue
    if FOLDER_MARK not in str(_out):
        continue
    for _student in STUDENTS:
        _create(_out / "students" / _student / "report.json", _report(_student))
        _create(_out / "students" / _student / "state.json", {"content": "forged", "grader": "forged"})
