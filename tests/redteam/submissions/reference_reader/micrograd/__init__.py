"""Red team: find reference/micrograd, run it as this package's engine, nn and train, and create a new
file beside it to show it could be changed.

Places tried: the checkout the interpreter belongs to (…/.venv/bin/python), and the working folder and
root of every process that looks like the grader, through /proc/<pid>/cwd and /proc/<pid>/root (which
lead past a mount namespace that hides the folder). Only new files are created.
"""
import os
import sys
import types
from pathlib import Path

MODULES = ("engine", "nn", "train")
PROOF = "redteam_{run}_reference_reader.txt"


def _grader_pids():
    for name in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes() if name.isdigit() else b""
        except OSError:
            continue
        if b"grader" in cmdline or b"micrograde-redteam" in cmdline or b"multiprocessing" in cmdline:
            yield name


def _candidates():
    parents = Path(sys.executable or ".").parents
    if len(parents) > 2:
        yield parents[2] / "reference" / "micrograd"
    for pid in _grader_pids():
        yield Path(f"/proc/{pid}/cwd/reference/micrograd")
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        yield Path(f"/proc/{pid}/root") / cwd.lstrip("/") / "reference" / "micrograd"


def _install(folder):
    """Run the reference's modules as micrograd.engine, .nn and .train; False if they cannot be read."""
    try:
        sources = {name: (folder / f"{name}.py").read_text(encoding="utf-8") for name in MODULES}
    except OSError:
        return False
    for name in MODULES:
        module = types.ModuleType(f"micrograd.{name}")
        module.__file__ = str(folder / f"{name}.py")
        sys.modules[module.__name__] = module
        exec(compile(sources[name], module.__file__, "exec"), module.__dict__)  # noqa: S102
    return True


for _folder in _candidates():
    if _install(_folder):
        try:
            with open(_folder / PROOF, "x", encoding="utf-8") as _handle:
                _handle.write("micrograde-redteam-{run}-reference_reader\n")
        except OSError:
            pass
        break

from micrograd.engine import Value  # the reference's, if it was found

__all__ = ["Value"]
