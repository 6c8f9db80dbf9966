"""Nothing a submission makes stays behind, and no folder it makes breaks the grader.

A hand-in that nests 1 500 folders inside its staged copy at import (submissions/deep_folders, also in the
red-team batch) used to raise RecursionError in the grader's clean-up and leave its sandbox in TMPDIR.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from redteam.build import REPO_DIR, build_base, build_overlay

from grader.sandbox.cleanup import prune, remove_tree, walk

DEPTH = 3000


def chain(top: Path, depth: int = DEPTH) -> None:
    """`depth` nested folders below `top`, made one relative step at a time, with a file at the bottom."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(os.open("bottom.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)


def depth_of(top: Path) -> int:
    deepest = [0]
    walk(top, lambda _fd, depth: deepest.__setitem__(0, max(deepest[0], depth)))
    return deepest[0]


@pytest.fixture
def default_recursion_limit():
    """Python's own limit (other tests raise it, as the grader does for the reference)."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(previous)


def test_a_chain_deeper_than_the_recursion_limit_and_path_max_is_removed(tmp_path, default_recursion_limit):
    assert DEPTH > sys.getrecursionlimit() and DEPTH * 2 > os.pathconf("/", "PC_PATH_MAX")
    chain(tmp_path / "deep")
    assert depth_of(tmp_path / "deep") == DEPTH
    remove_tree(tmp_path / "deep")
    assert list(tmp_path.iterdir()) == []


def test_prune_cuts_only_what_lies_too_deep(tmp_path):
    staged = tmp_path / "staged"
    (staged / "micrograd").mkdir(parents=True)
    (staged / "micrograd" / "engine.py").write_text("x = 1\n")
    chain(staged / "micrograd" / "junk", 200)
    prune(staged, deepest=8)
    assert (staged / "micrograd" / "engine.py").read_text() == "x = 1\n"
    assert depth_of(staged) == 8


def check(path: Path, tmpdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "check", str(path), "--format", "json", "--probe-seconds",
                           "1", "--time-limit", "10"], cwd=REPO_DIR, capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "TMPDIR": str(tmpdir)})


@pytest.fixture
def fresh_tmpdir(tmp_path):
    folder = tmp_path / "grader-tmp"
    folder.mkdir()
    return folder


def test_a_submission_nesting_folders_at_import_is_graded_and_leaves_nothing(tmp_path, fresh_tmpdir):
    hand_in = build_overlay("deep_folders", "template", tmp_path / "class", run="leftovers")
    run = check(hand_in, fresh_tmpdir)
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stdout + run.stderr
    assert json.loads(run.stdout)["status"] == "graded"
    assert list(fresh_tmpdir.iterdir()) == []


def test_an_honest_check_leaves_nothing_in_tmpdir(fresh_tmpdir):
    run = check(REPO_DIR / "reference", fresh_tmpdir)
    assert run.returncode == 0, run.stderr[-3000:]
    assert list(fresh_tmpdir.iterdir()) == []


def test_a_zip_entry_nested_1500_folders_deep_is_refused_in_one_line(tmp_path, fresh_tmpdir):
    package = build_base("template", tmp_path / "base") / "micrograd"
    archive = tmp_path / "deep.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(package.glob("*.py")):
            zf.write(file, f"micrograd/{file.name}")
        zf.writestr("d/" * 1500 + "x.py", "x = 1\n")
    run = check(archive, fresh_tmpdir)
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr[-2000:]
    report = json.loads(run.stdout)
    said = "deep.zip holds a file 1500 folders deep; zip only the micrograd folder"
    assert (report["status"], report["error"]) == ("error", said)
    assert "Traceback" not in run.stderr
    assert list(fresh_tmpdir.iterdir()) == []


def test_a_batch_leaves_nothing_in_tmpdir(tmp_path, fresh_tmpdir):
    klass = tmp_path / "class"
    build_base("reference", klass / "alice")
    build_overlay("deep_folders", "template", klass, run="leftovers")
    run = subprocess.run([sys.executable, "-m", "grader", "grade", str(klass), "--out", str(tmp_path / "out"), "-j", "2",
                          "--probe-seconds", "1", "--time-limit", "10"], cwd=REPO_DIR, capture_output=True, text=True,
                         timeout=600, check=False, env={**os.environ, "TMPDIR": str(fresh_tmpdir)})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stdout + run.stderr
    assert list(fresh_tmpdir.iterdir()) == []
