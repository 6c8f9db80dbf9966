"""The instructor's package as users install it: a wheel built from a copy of the project in another folder,
installed non-editable into a fresh virtual environment with its base dependencies only (no extra), from
the package index pip is configured with, and run from folders outside the clone."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader.paths import REPO_DIR

CORPUS = REPO_DIR / "tests" / "corpus" / "correct"
# Engines whose arithmetic is numpy's: they need numpy where the grader runs, with no extra installed.
NUMPY_ENGINES = ("numpy_kahn.py", "numpy_notebook.ipynb")


def project_files(root: Path = REPO_DIR) -> list[str]:
    """The project's files as a clone has them: tracked, plus new ones git does not ignore."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True, timeout=60).stdout.decode().split("\0")
    return sorted(name for name in listed if name and (root / name).is_file())


def copy_project(target: Path, root: Path = REPO_DIR) -> Path:
    for name in project_files(root):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)
    return target


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no variable of this test run's Python."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the project in another folder, with an instructor's secret beside an assignment, as a
    course's checkout has one: the wheel must not carry it."""
    root = copy_project(tmp_path_factory.mktemp("elsewhere") / "micrograde-src")
    (root / "assignments" / "micrograd" / "secret.key").write_text("never-shipped\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(source)], check=True, cwd=out, timeout=600, env=user_env())
    (built,) = out.glob("micrograde-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and its base dependencies, as `pip install micrograde` makes it; returns
    its bin/ folder."""
    venv = tmp_path_factory.mktemp("user") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                          capture_output=True, text=True, timeout=900, env=user_env(), check=False)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


@pytest.fixture()
def away(tmp_path) -> Path:
    """A working folder that is no part of any checkout."""
    folder = tmp_path / "somewhere"
    folder.mkdir()
    return folder


def micrograde(bin_dir: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "micrograde"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=user_env(**env), check=False)


def test_the_wheel_carries_the_course_but_no_secret(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"grader/data/reference/micrograd/engine.py", "grader/data/assignments/micrograd/assignment.toml",
            "grader/data/assignments/activations/assignment.toml", "micrograde/__main__.py"} <= names
    assert not [name for name in names if name.endswith("secret.key") or "/tests/" in name]


def test_the_base_install_has_numpy_and_nbformat_and_no_extra(installed):
    probe = ("import importlib.util as u, json; print(json.dumps({n: u.find_spec(n) is not None "
             "for n in ('numpy', 'nbformat', 'matplotlib', 'grader')}))")
    found = json.loads(subprocess.run([str(installed / "python"), "-c", probe], capture_output=True, text=True,
                                      check=True, timeout=60, env=user_env(), cwd=installed).stdout)
    assert found == {"numpy": True, "nbformat": True, "matplotlib": False, "grader": True}
    location = subprocess.run([str(installed / "python"), "-c", "import grader; print(grader.__file__)"],
                              capture_output=True, text=True, check=True, timeout=60, env=user_env(), cwd=installed).stdout
    assert Path(location.strip()).is_relative_to(installed.parent) and "site-packages" in location


def test_every_command_shows_its_help_without_a_traceback(installed, away):
    done = micrograde(installed, "--help", cwd=away)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    commands = done.stdout.split("positional arguments:")[1].split("options:")[0]
    for command in ("check", "assignments", "grade", "authoring", "selftest"):
        assert f"    {command}" in commands
        sub = micrograde(installed, command, "--help", cwd=away)
        assert sub.returncode == 0 and "Traceback" not in sub.stderr, (command, sub.stderr)


def test_check_gives_the_reference_full_marks_from_any_folder(installed, away):
    shutil.copytree(REPO_DIR / "reference", away / "solution")
    done = micrograde(installed, "check", "solution", "--format", "json", cwd=away)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["score"] == report["max_score"] == 100


def test_check_without_a_path_checks_the_current_folder(installed, away):
    shutil.copytree(REPO_DIR / "reference", away / "solution")
    done = micrograde(installed, "check", cwd=away / "solution")
    assert done.returncode == 0 and "Score: 100 / 100" in done.stdout, done.stdout + done.stderr
    (away / "empty").mkdir()
    empty = micrograde(installed, "check", cwd=away / "empty")
    assert empty.returncode == 2 and len(empty.stderr.strip().splitlines()) == 1 and "Traceback" not in empty.stderr


@pytest.mark.parametrize("engine", NUMPY_ENGINES)
def test_a_numpy_engine_gets_full_marks_under_the_base_install(installed, away, engine):
    shutil.copy(CORPUS / engine, away / engine)
    done = micrograde(installed, "check", engine, "--format", "json", cwd=away)
    report = json.loads(done.stdout)
    assert (done.returncode, report["score"]) == (0, report["max_score"]), done.stdout


def test_the_shipped_assignments_are_listed_and_graded(installed, away):
    done = micrograde(installed, "assignments", cwd=away)
    assert done.returncode == 0
    for name in ("micrograd", "activations"):
        assert f"{name}: " in done.stdout
    assert "site-packages/grader/data/assignments/activations/assignment.toml" in done.stdout
    shutil.copytree(REPO_DIR / "reference", away / "solution")
    graded = micrograde(installed, "check", "solution", "--assignment", "activations", "--format", "json", cwd=away)
    assert {part["id"] for part in json.loads(graded.stdout)["parts"]} >= {"sigmoid", "log"}


def test_a_course_folder_comes_before_the_shipped_assignments(installed, away):
    course = away / "course"
    (course / "assignments" / "micrograd").mkdir(parents=True)
    shipped = (REPO_DIR / "assignments" / "micrograd" / "assignment.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(shipped)
    assert raw["parts"][0]["id"] == "add"
    # The course gives add five points more than the shipped assignment does.
    (course / "assignments" / "micrograd" / "assignment.toml").write_text(
        shipped.replace(f'id = "add"\ntitle = "{raw["parts"][0]["title"]}"\npoints = {raw["parts"][0]["points"]}',
                        f'id = "add"\ntitle = "{raw["parts"][0]["title"]}"\npoints = {raw["parts"][0]["points"] + 5}'),
        encoding="utf-8")
    listed = micrograde(installed, "assignments", "--course", "course", cwd=away).stdout
    assert str(course / "assignments" / "micrograd" / "assignment.toml") in listed
    shutil.copytree(REPO_DIR / "reference", away / "solution")
    report = json.loads(micrograde(installed, "check", "solution", "--course", "course", "--format", "json",
                                   cwd=away).stdout)
    assert report["max_score"] == sum(part["points"] for part in raw["parts"]) + 5
    refused = micrograde(installed, "check", "solution", "--course", "solution", cwd=away)
    assert refused.returncode == 2 and "not a course folder" in refused.stderr


def test_a_class_is_graded_with_a_secret_kept_outside_the_installed_package(installed, away):
    class_dir = away / "class"
    shutil.copytree(REPO_DIR / "reference", class_dir / "ada")
    shutil.copytree(REPO_DIR / "student_template", class_dir / "ben", ignore=shutil.ignore_patterns(".github"))
    config = away / "config"
    done = micrograde(installed, "grade", "class", "--out", "grades", cwd=away, XDG_CONFIG_HOME=str(config))
    assert done.returncode == 0, done.stderr
    reports = {name: json.loads((away / "grades" / "students" / name / "report.json").read_text())
               for name in ("ada", "ben")}
    failed = [(test["part"], test["message"][:300]) for test in reports["ada"]["tests"] if test["status"] != "passed"]
    assert reports["ada"]["score"] == 100, (reports["ada"]["notes"], failed[:3], done.stdout[-2000:])
    assert reports["ben"]["score"] < 100
    assert (config / "micrograde" / "micrograd" / "secret.key").stat().st_mode & 0o077 == 0
    assert not list(installed.parent.rglob("secret.key"))


def test_an_installed_grader_publishes_the_student_edition_a_checkout_builds(installed, away, tmp_path):
    from grader.dist.student import build

    done = micrograde(installed, "publish", "--index", "site", cwd=away)
    assert done.returncode == 0, done.stderr
    (published,) = (away / "site" / "micrograde-student").glob("*.whl")
    assert published.read_bytes() == build(tmp_path).read_bytes()
