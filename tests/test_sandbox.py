"""The sandboxed child: hostile or broken engines cost themselves points and nothing else."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from grader.pipeline import grade_one
from grader.sandbox.process import Limits, namespace_prefix, run_child

REFERENCE = Path(__file__).resolve().parent.parent / "reference"
needs_namespaces = pytest.mark.skipif(not namespace_prefix(), reason="PID/mount namespaces need root and unshare")


def submission(tmp_path: Path, engine_prefix: str) -> Path:
    """The reference package with `engine_prefix` run first when engine.py is imported."""
    folder = tmp_path / "student"
    shutil.copytree(REFERENCE, folder)
    engine = folder / "micrograd" / "engine.py"
    engine.write_text(engine_prefix + "\n" + engine.read_text())
    return folder


def test_exit_at_import_scores_nothing_it_did_not_earn(tmp_path):
    result = grade_one(submission(tmp_path, "import os\nos._exit(0)"))
    assert result.score == 0
    assert all(t.status != "passed" for t in result.tests if t.part not in ("train",))


def test_printed_fake_results_are_not_trusted(tmp_path):
    fake = 'print(\'{"i": 0, "result": {"data": 1.0}}\')\nprint("100 passed")\nraise SystemExit(0)'
    result = grade_one(submission(tmp_path, fake))
    assert result.score < result.max_score


def test_hanging_probe_is_cut_and_the_rest_still_graded(tmp_path):
    folder = submission(tmp_path, "")
    engine = folder / "micrograd" / "engine.py"
    engine.write_text(engine.read_text().replace("    def exp(self):\n", "    def exp(self):\n        while True: pass\n"))
    probes = [{"id": "hang", "kind": "op", "op": "exp", "operands": [{"leaf": 0}], "leaves": [0.5], "g": 1.3},
              {"id": "fine", "kind": "op", "op": "tanh", "operands": [{"leaf": 0}], "leaves": [0.5], "g": 1.3}]
    start = time.monotonic()
    run = run_child(folder, "package", probes, tmp_path / "work", limits=Limits(probe_seconds=1.0))
    assert time.monotonic() - start < 10
    assert run.results[0]["error"]["kind"] == "timeout"
    assert "grads" in run.results[1]


@needs_namespaces
def test_reference_cannot_be_read_from_the_child(tmp_path):
    peek = f"exec(open({str(REFERENCE / 'micrograd' / 'engine.py')!r}).read())"
    folder = tmp_path / "peek" / "micrograd"
    folder.mkdir(parents=True)
    (folder / "engine.py").write_text(peek + "\n")
    result = grade_one(folder.parent)
    assert result.score == 0
    assert any("FileNotFoundError" in note for note in result.notes)


@needs_namespaces
def test_setsid_escaper_leaves_no_process(tmp_path):
    marker = tmp_path / "escaped"
    escaper = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(0.5)\n"
               f"    open({str(marker)!r}, 'w').write('alive')\n    os._exit(0)")
    grade_one(submission(tmp_path, escaper))
    time.sleep(1.5)
    assert not marker.exists(), "a process started by the submission outlived its grading"


def test_no_child_process_left_behind(tmp_path):
    before = set(os.listdir("/proc"))
    grade_one(submission(tmp_path, "import subprocess\nsubprocess.Popen(['sleep', '30'])"))
    time.sleep(0.5)
    leftovers = []
    for pid in set(os.listdir("/proc")) - before:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"sleep\x0030" in cmdline:
            leftovers.append(pid)
    assert not leftovers
