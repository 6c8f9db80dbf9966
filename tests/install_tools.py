"""A clean Python for tests that install what a student or a platform installs: a new virtual environment
without this checkout's grader, whose only way to the grader's dependencies (pytest, numpy, ...) and to
pip is a path to this environment's site-packages, so nothing is fetched from the network. The grader
itself is whatever the test installs into it (the student edition's wheel)."""
from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path


def clean_python(folder: Path) -> Path:
    """A new venv in `folder` and its `python`. This environment's site-packages is on its path for the
    dependencies, but not processed as a site folder, so this checkout's editable install of the grader is
    not visible there."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (Path(purelib) / "dependencies.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    return python


def offline_env(python: Path, **extra: str) -> dict[str, str]:
    """The environment to run that Python's tools in: its bin/ first on PATH, pip never reaching an index."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{python.parent}{os.pathsep}/usr/bin{os.pathsep}/bin", PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_CONFIG_FILE=os.devnull, VIRTUAL_ENV=str(python.parent.parent))
    env.update(extra)
    return env


def grader_location(python: Path, env: dict[str, str], cwd: Path) -> Path:
    """Where that Python, started in `cwd`, imports the grader package from."""
    done = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"], check=True, cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=60)
    return Path(done.stdout.strip()).parent
