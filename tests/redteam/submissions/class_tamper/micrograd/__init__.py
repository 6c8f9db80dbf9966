"""Red team: find the class folder a running `micrograde grade` reads, and add a file to every other
student's package and a new submission beside them. Only folders whose path holds this run's red-team mark
are touched, and only new files are created."""
import os
from pathlib import Path

from micrograd.engine import Value

__all__ = ["Value"]

FOLDER_MARK = "micrograde-redteam-{run}"
ME = "class_tamper"
PLANTED = "# micrograde-redteam-class_tamper was here\n"


def _grade_commands():
    """(pid, argv) of every process whose command line is a `grade` run."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            argv = Path(f"/proc/{name}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if "grade" in argv:
            yield name, argv


def _create(path, text):
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        pass


for _pid, _argv in _grade_commands():
    for _arg in _argv[_argv.index("grade") + 1:]:
        try:
            _folder = Path(os.readlink(f"/proc/{_pid}/cwd")) / _arg
        except OSError:
            continue
        if FOLDER_MARK not in str(_folder) or not _folder.is_dir() or (_folder / "students").is_dir():
            continue
        _create(_folder / "zz_redteam_late.py", PLANTED)
        for _student in sorted(_folder.iterdir()):
            if _student.name != ME and (_student / "micrograd").is_dir():
                _create(_student / "micrograd" / "zz_redteam_class_tamper.py", PLANTED)
