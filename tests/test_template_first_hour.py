"""A student's first hour with the template, from a fresh clone on a machine without micrograde: `make check`
on a Python whose own pip refuses to install (PEP 668's EXTERNALLY-MANAGED, as on Debian, Ubuntu and Homebrew)
sets up .venv/ saying what it does, reports without make's noise, leaves `git status` clean, and the same
check runs without make, with the documented exit statuses."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.paths import REPO_DIR

TEMPLATE = REPO_DIR / "student_template"


def externally_managed_python() -> str | None:
    """A Python 3.11+ on this machine whose installation is externally managed, or None."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", "/opt/homebrew/bin/python3"):
        if not os.access(candidate, os.X_OK):
            continue
        code = ("import sys, sysconfig, os; print(sys.version_info >= (3, 11) and sys.prefix == sys.base_prefix "
                "and os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))")
        probe = subprocess.run([candidate, "-c", code],
                               capture_output=True, text=True, timeout=60, check=False)
        if probe.stdout.strip() == "True":
            return candidate
    return None


def student_env() -> dict[str, str]:
    """A shell with no micrograde on PATH and no variable of this test run's Python or of a make around it."""
    path = os.pathsep.join(folder for folder in os.environ["PATH"].split(os.pathsep)
                           if not (Path(folder) / "micrograde").exists() and Path(folder) != Path(sys.executable).parent)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "VIRTUAL_ENV")) and key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return {**env, "PATH": path}


def git(clone: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(clone), "-c", "user.name=s", "-c", "user.email=s@example.edu", *args],
                          capture_output=True, text=True, timeout=60, check=True).stdout


@pytest.fixture(scope="module")
def system_python() -> str:
    python = externally_managed_python()
    if python is None:
        pytest.skip("no externally-managed Python 3.11+ on this machine (Debian's python3 is one)")
    return python


@pytest.fixture(scope="module")
def clone(system_python, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A fresh clone of the template after its first `make check` with the system's Python."""
    origin = tmp_path_factory.mktemp("origin") / "template"
    shutil.copytree(TEMPLATE, origin)
    git(origin, "init", "--quiet")
    git(origin, "add", ".")
    git(origin, "commit", "--quiet", "-m", "template")
    root = tmp_path_factory.mktemp("student") / "micrograd-hw"
    subprocess.run(["git", "clone", "--quiet", str(origin), str(root)], check=True, timeout=120)
    done = subprocess.run(["make", "check", f"PYTHON={system_python}"], cwd=root, capture_output=True, text=True,
                          env=student_env(), timeout=900, check=False)
    return root, done


def test_the_system_pip_refuses_to_install(system_python, tmp_path):
    refused = subprocess.run([system_python, "-m", "pip", "install", "--dry-run", "six"], capture_output=True,
                             text=True, timeout=300, cwd=tmp_path, env=student_env(), check=False)
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stdout + refused.stderr


def test_first_make_check_sets_up_saying_so_and_reports_without_make_noise(clone):
    root, done = clone
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Installing the checker into .venv/"), done.stdout
    assert "Score: 15 / 100" in done.stdout and "(not started)" in done.stdout
    # No recipe echoed, no error of make's for an ordinary failing check.
    assert "-m venv" not in done.stdout and "pip install" not in done.stdout
    assert "make: ***" not in done.stderr and "Error" not in done.stderr, done.stderr
    again = subprocess.run(["make", "check"], cwd=root, capture_output=True, text=True, env=student_env(),
                           timeout=600, check=False)
    assert again.returncode == 0 and "Installing" not in again.stdout and "Score: 15 / 100" in again.stdout


def test_git_status_is_clean_after_setup(clone):
    root, _ = clone
    assert (root / ".venv" / "bin" / "micrograde").is_file()
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_the_checker_runs_without_make_with_the_documented_exit_statuses(clone):
    root, _ = clone
    python = str(root / ".venv" / "bin" / "python")

    def check(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([python, "-m", "micrograde", "check", *args], cwd=root, capture_output=True, text=True,
                              env=student_env(), timeout=600, check=False)

    failing = check(".")
    assert failing.returncode == 1 and "Score: 15 / 100" in failing.stdout
    shutil.copytree(REPO_DIR / "reference" / "micrograd", root / "solved" / "micrograd")
    passing = check("solved")
    assert passing.returncode == 0 and "Score: 100 / 100" in passing.stdout
    missing = check("nowhere")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    readme = (root / "README.md").read_text(encoding="utf-8")
    for line in (".venv/bin/python -m micrograde check .", "py -m venv .venv;", "exits with 0 when every check passed"):
        assert line in readme


def test_make_check_fails_when_nothing_could_be_checked(clone):
    root, _ = clone
    engine = root / "micrograd" / "engine.py"
    saved = engine.read_text(encoding="utf-8")
    try:
        engine.write_text(saved + "\ndef broken(:\n", encoding="utf-8")
        done = subprocess.run(["make", "check"], cwd=root, capture_output=True, text=True, env=student_env(),
                              timeout=600, check=False)
    finally:
        engine.write_text(saved, encoding="utf-8")
    assert done.returncode != 0 and "SyntaxError" in done.stdout + done.stderr


def test_the_readme_never_installs_with_the_system_pip():
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    assert "python3 -m pip install" not in readme and "\npip install" not in readme
