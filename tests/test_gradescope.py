"""The Gradescope autograder zip, unpacked the way Gradescope lays it out (source/, submission/,
results/) and run with its run_autograder; setup.sh is not run (it installs system packages)."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.cli import main
from grader.gradescope import REFERENCE_DATA, SCHEMA, SCRIPTS, SECRET_PLANS
from grader.paths import REFERENCE_DIR

VENV_BIN = Path(sys.executable).parent
OVERWRITE_BUG = ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad")


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "micrograde-autograder.zip"
    assert main(["gradescope", "build", "--out", str(out)]) == 0
    return out


def lay_out(zip_path: Path, root: Path) -> Path:
    """/autograder as Gradescope prepares it: the zip in source/, empty submission/ and results/."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the permission bits
            mode = info.external_attr >> 16
            if mode:
                (root / "source" / info.filename).chmod(stat.S_IMODE(mode))
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def unpacked_grader(root: Path) -> Path:
    """A bin folder whose `micrograde` is the grader from the unpacked zip (what setup.sh installs there),
    run with this environment's packages: so the zip alone must hold all the grader needs."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "micrograde"
    launcher.write_text(f'#!/bin/sh\ntouch "{bin_dir / "launched"}"\n'
                        f'PYTHONPATH="{root / "source"}" exec "{sys.executable}" -m grader "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    return bin_dir


def run_autograder(root: Path, path_dirs: list[Path]) -> subprocess.CompletedProcess:
    env = {**os.environ, "MICROGRADE_SUBMISSION_DIR": str(root / "submission"),
           "MICROGRADE_RESULTS_DIR": str(root / "results"),
           "PATH": os.pathsep.join([*map(str, path_dirs), os.environ.get("PATH", "")])}
    return subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, check=False,
                          capture_output=True, text=True, timeout=300)


def read_results(root: Path) -> dict:
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    try:
        import jsonschema
    except ImportError:
        assert set(schema["required"]) <= set(results) <= set(schema["properties"])
    else:
        jsonschema.validate(results, schema)
    return results


def test_zip_holds_the_scripts_at_its_root_and_the_grader_source(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        for script in SCRIPTS:
            assert infos[script].external_attr >> 16 & 0o111, f"{script} is not executable"
            assert archive.read(script).startswith(b"#!/usr/bin/env bash\n")
        setup = archive.read("setup.sh").decode()
    assert "pip\" install -e \"$SOURCE[instructor]\"" in setup and "python3" in setup and "bubblewrap" in setup
    assert 'chmod 600 "$SOURCE/grader/data/reference_results.json"' in setup
    names = set(infos)
    assert {"pyproject.toml", "README.md", "grader/cli.py", "grader/data/reference_results.json",
            "assignments/micrograd/assignment.toml", "grader/gradescope/results.schema.json"} <= names
    assert not [name for name in names if name.startswith("reference/")]
    assert not [name for name in names if name.endswith("secret.key")]
    with zipfile.ZipFile(autograder_zip) as archive:
        shipped = json.loads(archive.read(REFERENCE_DATA))
    assert len(shipped["secret_plans"]) == SECRET_PLANS and shipped["plan"] not in {p["plan"] for p in
                                                                                     shipped["secret_plans"]}
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_build_is_reproducible(autograder_zip: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    assert main(["gradescope", "build", "--out", str(again)]) == 0
    assert again.read_bytes() == autograder_zip.read_bytes()


def test_run_autograder_grades_a_buggy_submission(autograder_zip: Path, tmp_path: Path) -> None:
    root = lay_out(autograder_zip, tmp_path)
    shutil.copytree(REFERENCE_DIR / "micrograd", root / "submission" / "micrograd",
                    ignore=shutil.ignore_patterns("__pycache__"))
    engine = root / "submission" / "micrograd" / "engine.py"
    engine.write_text(engine.read_text(encoding="utf-8").replace(*OVERWRITE_BUG), encoding="utf-8")
    done = run_autograder(root, [unpacked_grader(root), VENV_BIN])
    assert done.returncode == 0, done.stderr
    results = read_results(root)
    max_score = sum(t["max_score"] for t in results["tests"])
    assert 0 < results["score"] < max_score
    failed = [t for t in results["tests"] if t["status"] == "failed" and "mul" in t["tags"]]
    assert failed, results["output"]
    assert any("micrograd/engine.py:" in t["output"] for t in failed)
    assert "`mul`" in results["output"]
    assert (root / "bin" / "launched").is_file(), "run_autograder did not run the zip's grader"


def test_run_autograder_reports_an_empty_submission(autograder_zip: Path, tmp_path: Path) -> None:
    root = lay_out(autograder_zip, tmp_path)
    done = run_autograder(root, [unpacked_grader(root), VENV_BIN])
    assert done.returncode == 0, done.stderr
    results = read_results(root)
    assert results["score"] == 0 and results["tests"] == []
    assert "empty" in results["output"]


def test_run_autograder_writes_results_even_when_the_grader_crashes(autograder_zip: Path, tmp_path: Path) -> None:
    root = lay_out(autograder_zip, tmp_path)
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    crash = fake / "micrograde"
    crash.write_text("#!/bin/sh\necho 'Traceback: boom' >&2\nprintf '{\"half' > \"$6\"\nexit 3\n", encoding="utf-8")
    crash.chmod(0o755)
    done = run_autograder(root, [fake])
    assert done.returncode == 0, done.stderr
    results = read_results(root)
    assert results["score"] == 0 and "exit status 3" in results["output"]


def test_run_autograder_says_when_the_grader_is_not_installed(autograder_zip: Path, tmp_path: Path) -> None:
    """No `micrograde` on PATH (setup.sh did not finish): the shell's status 127 is explained, not quoted."""
    root = lay_out(autograder_zip, tmp_path)
    env = {"MICROGRADE_SUBMISSION_DIR": str(root / "submission"), "MICROGRADE_RESULTS_DIR": str(root / "results"),
           "PATH": "/usr/bin:/bin"}
    assert shutil.which("micrograde", path=env["PATH"]) is None
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = read_results(root)
    assert results["score"] == 0 and "not installed" in results["output"] and "127" not in results["output"]


def test_the_zip_holds_no_reference_solution(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        names = archive.namelist()
    assert not [name for name in names if name.startswith("reference/")]
    assert not [name for name in names if name.endswith("secret.key")]
    with zipfile.ZipFile(autograder_zip) as archive:
        shipped = json.loads(archive.read(REFERENCE_DATA))
    assert len(shipped["secret_plans"]) == SECRET_PLANS and shipped["plan"] not in {p["plan"] for p in
                                                                                     shipped["secret_plans"]}
    assert "grader/data/reference_results.json" in names
