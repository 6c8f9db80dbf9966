"""The sandboxed child: hostile or broken engines cost themselves points and nothing else."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from grader.paths import REPO_DIR
from grader.pipeline import grade_one, probe_submission
from grader.sandbox import process
from grader.sandbox.process import Limits, namespace_prefix, run_child, sandbox

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
    folder = sandbox().workdir() / "student"
    shutil.copytree(submission(tmp_path, ""), folder)
    engine = folder / "micrograd" / "engine.py"
    engine.write_text(engine.read_text().replace("    def exp(self):\n", "    def exp(self):\n        while True: pass\n"))
    probes = [{"id": "hang", "kind": "op", "op": "exp", "apply": {"exp": ["method", "exp"]}, "method": "exp",
               "operands": [{"leaf": 0}], "leaves": [0.5], "g": 1.3},
              {"id": "fine", "kind": "op", "op": "tanh", "apply": {"tanh": ["method", "tanh"]}, "method": "tanh",
               "operands": [{"leaf": 0}], "leaves": [0.5], "g": 1.3}]
    start = time.monotonic()
    run = run_child(folder, "package", probes, limits=Limits(probe_seconds=1.0))
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


@pytest.fixture(params=["namespaces", "plain"])
def mode(request, monkeypatch):
    """Grade with the server as this machine allows ("namespaces" where root), and as it runs without
    root or `unshare` ("plain": no namespaces, no separate user)."""
    if request.param == "namespaces" and not namespace_prefix():
        pytest.skip("PID/mount namespaces need root and unshare")
    if request.param == "plain":
        monkeypatch.setattr(process, "namespace_prefix", lambda: ())
    previous = getattr(process._local, "server", None)
    process._local.server = None
    yield request.param
    if process._local.server is not None:
        process._local.server.close()
    process._local.server = previous


def processes_with(marker: bytes) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            continue
    return found


def test_setsid_escaper_leaves_no_process(tmp_path, mode):
    """A double-forked, setsid() process that ignores SIGTERM is killed with its submission."""
    escaper = ("import os, signal, subprocess\nif os.fork() == 0:\n    os.setsid()\n"
               "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    if os.fork() == 0:\n"
               "        subprocess.Popen(['sleep', '31.25'])\n        os.execvp('sleep', ['sleep', '32.5'])\n"
               "    os._exit(0)")
    grade_one(submission(tmp_path, escaper))
    deadline = time.monotonic() + 5
    while (processes_with(b"31.25") or processes_with(b"32.5")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_with(b"31.25") and not processes_with(b"32.5"), "a process outlived its grading"


def test_fork_storm_is_bounded_and_cleaned_up(tmp_path, mode):
    """Two hundred sleeping children at import: the grading finishes and none of them is left."""
    storm = ("import os, time\nfor _ in range(200):\n    try:\n        pid = os.fork()\n    except OSError:\n"
             "        break\n    if pid == 0:\n        os.execvp('sleep', ['sleep', '33.75'])")
    result = grade_one(submission(tmp_path, storm))
    assert result.score == result.max_score  # the engine itself is the reference
    deadline = time.monotonic() + 5
    while processes_with(b"33.75") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_with(b"33.75")


needs_root = pytest.mark.skipif(os.geteuid() != 0 or not namespace_prefix(),
                                reason="the separate job user and private /tmp need root and unshare")


@needs_root
def test_child_runs_as_another_user_with_a_private_tmp(tmp_path):
    leak = f"micrograde-leak-{os.getpid()}"
    probe = ("import os\nprint('uid', os.getuid())\nopen('/tmp/" + leak + "', 'w').write('x')\n"
             "try:\n    open(" + repr(str(REPO_DIR / leak)) + ", 'w')\nexcept OSError as exc:\n"
             "    print('refused', type(exc).__name__)")
    probed = probe_submission(submission(tmp_path, probe))
    assert "uid 0" not in probed.output and "uid " in probed.output
    assert "refused PermissionError" in probed.output or "refused FileNotFoundError" in probed.output
    assert not (REPO_DIR / leak).exists()
    assert not Path("/tmp", leak).exists()


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


def test_a_server_that_cannot_enter_its_namespaces_starts_without_them(tmp_path, monkeypatch):
    monkeypatch.setattr(process, "namespace_prefix", lambda: ("sh", "-c", "exit 3", "refused"))
    server = process.Sandbox()
    try:
        assert server.alive()
        assert server.process.args[0] != "sh"
    finally:
        server.close()
    assert not server.base.exists()


@needs_root
def test_the_job_user_can_start_only_a_bounded_number_of_processes(tmp_path):
    storm = ("import os, time\nstarted = 0\nfor _ in range(150):\n    try:\n        pid = os.fork()\n"
             "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(3)\n        os._exit(0)\n"
             "    started += 1\nprint('started', started, flush=True)")
    probed = probe_submission(submission(tmp_path, storm))
    counts = [int(line.split()[1]) for line in probed.output.splitlines() if line.startswith("started ")]
    assert counts and max(counts) < process.JOB_PROCESSES
