"""The sandboxed child: hostile or broken engines cost themselves points and nothing else."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.paths import REPO_DIR
from grader.pipeline import grade_one, probe_submission
from grader.sandbox import isolation, process
from grader.sandbox.process import JobLimits, run_child, sandbox

REFERENCE = Path(__file__).resolve().parent.parent / "reference"
AS_ROOT = os.name == "posix" and os.geteuid() == 0
MODES = {way.mode: way for way in isolation.available()}
ROOT_MODES = ("bwrap", "unshare", "chroot")
needs_namespaces = pytest.mark.skipif(not {"bwrap", "unshare"} & set(MODES),
                                      reason="PID/mount namespaces need root and bubblewrap or unshare")


def forced(monkeypatch, mode: str) -> None:
    """Make this thread's next server use `mode` only (skipping the test where it does not work here)."""
    if mode not in MODES:
        pytest.skip(f"{mode} isolation does not work here (needs root, and bubblewrap, unshare or chroot)")
    monkeypatch.setattr(process, "isolations", lambda: (MODES[mode],))


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
    run = run_child(folder, "package", probes, limits=JobLimits(probe_seconds=1.0))
    assert time.monotonic() - start < 10
    assert run.results[0]["error"]["kind"] == "timeout"
    assert "grads" in run.results[1]


@pytest.mark.skipif(not AS_ROOT, reason="hiding the reference needs root")
def test_reference_cannot_be_read_from_the_child(tmp_path, mode):
    peek = f"exec(open({str(REFERENCE / 'micrograd' / 'engine.py')!r}).read())"
    folder = tmp_path / "peek" / "micrograd"
    folder.mkdir(parents=True)
    (folder / "engine.py").write_text(peek + "\n")
    result = grade_one(folder.parent)
    assert result.score == 0
    assert result.status == "error" and "FileNotFoundError raised while loading" in result.error


@pytest.fixture(params=[*ROOT_MODES, "none"])
def mode(request, monkeypatch):
    """Grade with the server in each isolation this machine offers: as root bwrap, unshare and chroot;
    not as root "none" (the grader's own user, limits and a subreaper)."""
    forced(monkeypatch, request.param)
    previous = getattr(process._local, "server", None)
    process._local.server = None
    yield request.param
    if process._local.server is not None:
        process._local.server.close()
    process._local.server = previous


def processes_with(marker: bytes, uid: int | None = None) -> list[int]:
    """Processes whose command line holds `marker`, or that run as `uid` (a job user's, where the job
    could not exec a marked command: no /usr/bin in bubblewrap's root, nothing at all in a chroot)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes() or (uid is not None and
                                                                        Path(f"/proc/{pid}").stat().st_uid == uid):
                found.append(int(pid))
        except OSError:
            continue
    return found


# A sleeping process: a new interpreter marked with its duration where it can exec one, else a forked one.
LINGER = ("import os, sys, time\n"
          "def linger(seconds):\n"
          "    try:\n"
          "        os.execv(sys.executable, [sys.executable, '-c', f'import time; time.sleep({seconds})'])\n"
          "    except OSError:\n"
          "        time.sleep(seconds)\n"
          "        os._exit(0)\n")


def gone(marker: bytes, uid: int | None) -> bool:
    deadline = time.monotonic() + 5
    while processes_with(marker, uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not processes_with(marker, uid)


def test_setsid_escaper_leaves_no_process(tmp_path, mode):
    """A double-forked, setsid() process that ignores SIGTERM is killed with its submission."""
    escaper = (LINGER + "import signal\nif os.fork() == 0:\n    os.setsid()\n"
               "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    if os.fork() == 0:\n"
               "        if os.fork() == 0:\n            linger(31.25)\n        linger(32.5)\n"
               "    os._exit(0)")
    grade_one(submission(tmp_path, escaper))
    uid = sandbox().uid
    assert gone(b"31.25", uid) and gone(b"32.5", uid), "a process outlived its grading"


def test_fork_storm_is_bounded_and_cleaned_up(tmp_path, mode):
    """Two hundred sleeping children at import: the grading finishes and none of them is left."""
    storm = (LINGER + "for _ in range(200):\n    try:\n        pid = os.fork()\n    except OSError:\n"
             "        break\n    if pid == 0:\n        linger(33.75)")
    result = grade_one(submission(tmp_path, storm))
    assert result.score == result.max_score  # the engine itself is the reference
    assert gone(b"33.75", sandbox().uid)


needs_root = pytest.mark.skipif(not AS_ROOT, reason="the separate job user and private /tmp need root")


@needs_root
def test_child_runs_as_another_user_with_a_private_tmp(tmp_path, mode):
    leak = f"micrograde-leak-{os.getpid()}"
    probe = ("import os\nprint('uid', os.getuid(), os.geteuid())\ntry:\n    open('/tmp/" + leak + "', 'w').write('x')\n"
             "except OSError:\n    pass\n"
             "try:\n    open(" + repr(str(REPO_DIR / leak)) + ", 'w')\nexcept OSError as exc:\n"
             "    print('refused', type(exc).__name__)")
    probed = probe_submission(submission(tmp_path, probe))
    uids = {line for line in probed.output.splitlines() if line.startswith("uid ")}
    assert uids and all(" 0" not in line for line in uids), probed.output
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


@needs_root
def test_a_server_that_cannot_start_in_its_isolation_takes_the_next_that_works(monkeypatch):
    if "chroot" not in MODES:
        pytest.skip("chroot does not work here")
    monkeypatch.setattr(isolation, "UNSHARE", ("sh", "-c", "exit 3", "refused"))
    unshare = isolation.Isolation("unshare", "tried first", job_user=True)
    monkeypatch.setattr(process, "isolations", lambda: (unshare, MODES["chroot"]))
    server = process.Sandbox()
    try:
        assert server.alive() and server.isolation.mode == "chroot" and server.uid is not None
    finally:
        server.close()
    assert not server.base.exists()


@needs_root
def test_a_server_that_cannot_start_in_any_isolation_refuses_rather_than_run_bare(monkeypatch):
    """As root, failing to set up namespaces must never mean jobs running without them."""
    monkeypatch.setattr(isolation, "UNSHARE", ("sh", "-c", "exit 3", "refused"))
    unshare = isolation.Isolation("unshare", "the only one", job_user=True)
    monkeypatch.setattr(process, "isolations", lambda: (unshare,))
    with pytest.raises(process.SandboxError, match="did not start"):
        process.Sandbox()


def test_without_any_isolation_as_root_grading_is_refused_in_one_line(tmp_path):
    env = {**os.environ, isolation.DENY_ENV: "bwrap,unshare,chroot", "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "grader", "check", str(REFERENCE.parent / "reference")], cwd=REPO_DIR,
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    if not AS_ROOT:
        assert run.returncode == 0, run.stderr  # not root: the student's own machine, graded as before
        return
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "refusing to run student code as root" in run.stderr
    assert "--unsafe-sandbox" in run.stderr and "bubblewrap" in run.stderr
    assert list(tmp_path.iterdir()) == []


@needs_root
def test_the_job_user_can_start_only_a_bounded_number_of_processes(tmp_path):
    storm = ("import os, time\nstarted = 0\nfor _ in range(150):\n    try:\n        pid = os.fork()\n"
             "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(3)\n        os._exit(0)\n"
             "    started += 1\nprint('started', started, flush=True)")
    probed = probe_submission(submission(tmp_path, storm))
    counts = [int(line.split()[1]) for line in probed.output.splitlines() if line.startswith("started ")]
    assert counts and max(counts) < process.JOB_PROCESSES


def explain(*args: str, deny: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, isolation.DENY_ENV: deny}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO_DIR, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("deny", ["", "bwrap", "bwrap,unshare"])
def test_the_sandbox_command_says_which_isolation_is_in_force_and_why(deny):
    expected = {"": ("bwrap", "unshare", "chroot"), "bwrap": ("unshare", "chroot"), "bwrap,unshare": ("chroot",)}[deny]
    offered = [mode for mode in expected if mode in MODES] if AS_ROOT else ["none"]
    if not offered:
        pytest.skip(f"none of {', '.join(expected)} works here")
    for args in (("sandbox",), ("check", "--explain-sandbox")):
        run = explain(*args, deny=deny)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0].startswith(f"isolation: {offered[0]} (")
        if AS_ROOT:
            assert lines[1].startswith("job user: uid ") and lines[1].endswith(" (its own; never root)")
            assert int(lines[1].split()[3]) >= process.JOB_UID_BASE
        else:
            assert lines[1] == "job user: the grader's own user"
        assert lines[2].startswith("a job sees: ")
        if deny:
            assert f"turned off ({isolation.DENY_ENV})" in lines[0]


@pytest.mark.skipif(not AS_ROOT, reason="only root is refused")
def test_the_sandbox_command_says_when_grading_would_be_refused():
    run = explain("sandbox", deny="bwrap,unshare,chroot")
    assert run.returncode == 0
    assert run.stdout.startswith("isolation: none; grading would be refused:\n  refusing to run student code as root")


def test_every_job_user_id_has_as_many_digits_whatever_the_graders_pid():
    """The id is written into each job's records: a digit more would move every object the job makes after
    it, and a verdict that follows addresses would change with the grading process's pid."""
    lengths = {len(str(process.JOB_UID_BASE + pid * process.USERS_PER_GRADER + n))
               for pid in (1, 12_500, 32_768, 4_194_304) for n in (0, process.USERS_PER_GRADER - 1)}
    assert len(lengths) == 1
