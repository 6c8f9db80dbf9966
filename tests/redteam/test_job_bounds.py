"""Bounds per job, not per process: what a hand-in's processes hold and write together, the System V objects
it makes, the clock it runs against, and the memory layout its verdict may follow.

Each attack is graded as its honest code would be, and each test shows the bound it meets: the kernel stops
a job whose processes together go over its memory (a cgroup), its writes end at the staged copy's size (a
tmpfs), no System V object of a job is there for the next job or after the run (in every isolation), no
record the child writes buys a probe more time and no stage outlives the submission's budget, the server
keeps three capabilities, and one hand-in whose bugs follow object addresses gets the same report however
often and in whatever company it is graded. (The same attacks run in the class batch of test_redteam.py
beside honest controls: manifest.toml's job_memory_split, job_disk_fill, job_sysv_objects, start_rearm and
address_layout.)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from redteam.build import REPO_DIR, build_base, build_overlay

from grader.pipeline import probe_submission
from grader.sandbox import isolation
from grader.sandbox.process import JOB_DISK_BYTES, JobLimits, fixed_layout, sandbox

AS_ROOT = os.name == "posix" and os.geteuid() == 0
MODES = [way.mode for way in isolation.available()]
RUN = "bounds"


def kinds(probed) -> dict[str, int]:
    """How many probes answered, and how many ended each way that is not an answer."""
    counted: dict[str, int] = {}
    for result in probed.evidence.student.values():
        kind = (result.get("error") or {}).get("kind", "answered")
        counted[kind] = counted.get(kind, 0) + 1
    return counted


def printed(probed, word: str) -> list[str]:
    return [line for line in probed.output.splitlines() if line.startswith(f"micrograde-redteam {word}:")]


def sandbox_notes(probed) -> list[str]:
    return [problem.get("note", "") for problem in probed.evidence.load.get("problems", [])
            if problem.get("module") == "the sandbox"]


# ------------------------------------------------------------------------------------------ memory

HOGS = """
import os, select, time
from micrograd.engine import Value
__all__ = ["Value"]
read, write = os.pipe()
for _ in range(4):
    if os.fork() == 0:
        block = bytearray(450 * 2**20)
        block[::4096] = b"x" * len(range(0, len(block), 4096))
        os.write(write, b"!")
        time.sleep(20)
        os._exit(0)
os.close(write)
held = 0
while held < 4 and select.select([read], [], [], 20)[0]:
    got = os.read(read, 4)
    if not got:
        break
    held += len(got)
print(f"micrograde-redteam memory: {held} held", flush=True)
"""


@pytest.mark.skipif(not AS_ROOT, reason="a cgroup per job needs root")
def test_a_jobs_processes_together_are_stopped_at_its_memory_bound(tmp_path):
    if "memory" not in sandbox().bounds.groups:
        pytest.skip("this machine offers no writable memory cgroup")
    hand_in = build_base("template", tmp_path / "hogs")
    (hand_in / "micrograd" / "__init__.py").write_text(HOGS, encoding="utf-8")
    limits = JobLimits(probe_seconds=10, total_seconds=40, memory_bytes=2**30)  # 4 x 450 MiB, each under 1 GiB
    probed = probe_submission(hand_in, limits=limits, parts=["add"])
    folder, version = sandbox().bounds.groups["memory"]
    limit_file = "memory.limit_in_bytes" if version == 1 else "memory.max"
    assert (folder / limit_file).read_text().strip() == str(2**30)
    assert any("went over 1024 MiB of memory" in note for note in sandbox_notes(probed)), probed.evidence.load
    assert all("4 held" not in line for line in printed(probed, "memory"))


# -------------------------------------------------------------------------------------------- disk

@pytest.mark.skipif(not AS_ROOT, reason="a tmpfs per server needs root")
def test_a_jobs_writes_end_at_the_size_of_its_staged_copy(tmp_path):
    if sandbox().bounds.disk is None:
        pytest.skip("no tmpfs could be mounted here")
    hand_in = build_overlay("job_disk_fill", "template", tmp_path, RUN)
    probed = probe_submission(hand_in, parts=["add"])
    lines = printed(probed, "disk")
    assert lines, probed.output
    written = [int(line.split("wrote ")[1].split()[0]) for line in lines]
    assert all(mib * 2**20 <= JOB_DISK_BYTES for mib in written), lines
    assert all(mib < 13 * 15 for mib in written), lines  # the attack alone would have written all of it


# ------------------------------------------------------------------------------------------ System V

SYSV_SCRIPT = """
import sys
from pathlib import Path
from grader.sandbox import isolation, process
mode = sys.argv[1]
process.isolations = lambda: tuple(w for w in isolation.available() if w.mode == mode)
from grader.pipeline import probe_submission
for hand_in in sys.argv[2:]:
    probed = probe_submission(Path(hand_in), parts=["add", "train"])
    assert process.sandbox().isolation.mode == mode, process.sandbox().isolation
    print(probed.output)
"""


def sysv_objects() -> set[tuple[str, str]]:
    """(kind, key and id) of every System V object this IPC namespace holds."""
    found = set()
    for kind in ("shm", "msg", "sem"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        found |= {(kind, " ".join(line.split()[:2])) for line in lines}
    return found


@pytest.mark.skipif(not AS_ROOT, reason="jobs run as a user of their own only as root")
@pytest.mark.parametrize("mode", ["bwrap", "unshare", "chroot"])
def test_no_system_v_object_outlives_its_job(tmp_path, mode):
    if mode not in MODES:
        pytest.skip(f"{mode} isolation does not work here")
    hand_ins = [build_overlay("job_sysv_objects", "template", tmp_path / str(n), RUN) for n in range(2)]
    before = sysv_objects()
    run = subprocess.run([sys.executable, "-c", SYSV_SCRIPT, mode, *map(str, hand_ins)], cwd=REPO_DIR,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("micrograde-redteam sysv:")]
    assert len(lines) == 4, run.stdout[-3000:]  # two submissions, two children each: each made its objects
    assert all("earlier=False" in line for line in lines), lines  # and none saw an earlier job's
    assert sysv_objects() == before


# ------------------------------------------------------------------------------------------- the clock

def test_no_record_from_the_child_buys_a_probe_more_time(tmp_path):
    """The first backward hangs while a thread writes `start` for the probes after it: the hanging probe
    still ends at its limit, and every other probe is answered."""
    hand_in = build_overlay("start_rearm", "reference", tmp_path, RUN)
    probed = probe_submission(hand_in, limits=JobLimits(probe_seconds=1, total_seconds=30))
    counted = kinds(probed)
    assert counted.get("no_answer", 0) == 0, counted
    assert sum(n for kind, n in counted.items() if kind != "answered") == 1, counted
    assert any("out of turn" in note for note in probed.notes), probed.notes


SLOW_BACKWARD = """
import time
from micrograd.engine import Value
__all__ = ["Value"]
_backward = Value.backward

def _slow(self):
    time.sleep(0.8)
    return _backward(self)

Value.backward = _slow
"""


def test_the_submissions_budget_is_one_for_all_its_stages(tmp_path):
    """Every backward takes most of a probe's limit, so the engine's probes use up the submission's whole
    budget: the training stage gets no fresh budget of its own."""
    hand_in = build_base("reference", tmp_path / "slow")
    (hand_in / "micrograd" / "__init__.py").write_text(SLOW_BACKWARD, encoding="utf-8")
    probed = probe_submission(hand_in, limits=JobLimits(probe_seconds=1, total_seconds=4))
    train = [result for probe in probed.evidence.probes if probe.get("stage") == "train"
             for result in [probed.evidence.student[probe["id"]]]]
    assert train and all(result.get("error", {}).get("kind") in ("no_answer", "timeout") for result in train)


# ---------------------------------------------------------------------------------------- capabilities

CAPABILITIES = """
from micrograd.engine import Value
__all__ = ["Value"]
parent = [line for line in open("/proc/self/status") if line.startswith("PPid:")][0].split()[1]
caps = {line.split(":")[0]: line.split()[1] for line in open(f"/proc/{parent}/status") if line.startswith("Cap")}
print("micrograde-redteam caps:", caps["CapEff"], caps["CapBnd"], caps["CapAmb"], flush=True)
"""


@pytest.mark.skipif(not AS_ROOT or "bwrap" not in MODES, reason="the server runs in bubblewrap only as root")
def test_the_server_keeps_only_the_capabilities_it_needs(tmp_path):
    if sandbox().isolation.mode != "bwrap":
        pytest.skip("this process's server runs in another isolation")
    hand_in = build_base("template", tmp_path / "caps")
    (hand_in / "micrograd" / "__init__.py").write_text(CAPABILITIES, encoding="utf-8")
    lines = printed(probe_submission(hand_in, parts=["add"]), "caps")
    kept = f"{sum(1 << number for number in isolation.SERVER_CAPABILITIES.values()):016x}"
    assert lines and all(line.split()[2:] == [kept, kept, "0" * 16] for line in lines), lines


# ----------------------------------------------------------------------------------------- the layout

def cli(*args: str, tmpdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO_DIR, capture_output=True, text=True,
                          timeout=600, check=False, env={**os.environ, "TMPDIR": str(tmpdir)})


def outcome(report: dict) -> tuple:
    return (report["score"], report["status"], [(p["id"], p["score"], p["status"]) for p in report["parts"]])


@pytest.mark.skipif(not fixed_layout(), reason="address-space randomisation can be turned off only on Linux, "
                                               "with util-linux's setarch")
def test_a_verdict_that_follows_object_addresses_is_one_verdict(tmp_path):
    """mul's backward is wrong at one class of node addresses: three gradings alone, in fresh processes,
    and one in a class batch behind other hand-ins (the same worker serving them first) agree."""
    klass, grader_tmp = tmp_path / "class", tmp_path / "grader-tmp"
    grader_tmp.mkdir()
    hand_in = build_overlay("address_layout", "reference", klass, RUN)
    for name in ("a_reference", "b_mutant"):
        build_base("reference" if name == "a_reference" else "mutant:mul_swapped_factors", klass / name)
    alone = []
    for _ in range(3):
        run = cli("check", str(hand_in), "--format", "json", tmpdir=grader_tmp)
        assert run.returncode in (0, 1), run.stderr[-2000:]
        alone.append(outcome(json.loads(run.stdout)))
    run = cli("grade", str(klass), "--out", str(tmp_path / "out"), "-j", "1", "--force", tmpdir=grader_tmp)
    assert run.returncode == 0, run.stderr[-2000:]
    batch = json.loads((tmp_path / "out" / "students" / hand_in.name / "report.json").read_text(encoding="utf-8"))
    assert alone[0] == alone[1] == alone[2] == outcome(batch)
    honest = json.loads((tmp_path / "out" / "students" / "a_reference" / "report.json").read_text(encoding="utf-8"))
    assert batch["score"] < honest["score"]  # the attack's bug was seen, on the same nodes every time
    shutil.rmtree(klass)


# ------------------------------------------------------------------------------------ a killed grading

def dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.mark.skipif(not AS_ROOT, reason="tmpfs and cgroups per server need root")
def test_what_a_killed_grading_left_is_released_by_the_next(tmp_path):
    from grader.sandbox import bounds

    owner = dead_pid()
    folder = tmp_path / "left"
    folder.mkdir()
    if bounds.LIBC.mount(f"{bounds.MOUNT_SOURCE}{owner}".encode(), str(folder).encode(), b"tmpfs", 0, b"size=1m") != 0:
        pytest.skip("no tmpfs can be mounted here")
    groups = [made[0] for made in (bounds.make_group(c, f"micrograde-{owner}-0") for c in ("memory", "pids")) if made]
    (tmp_path / "next").mkdir()
    made = bounds.JobBounds.make("micrograde-test", tmp_path / "next", 2**20)  # the next grading's server
    try:
        mounted = Path("/proc/self/mountinfo").read_text()
        assert f"{bounds.MOUNT_SOURCE}{owner} " not in mounted and not folder.exists()
        assert not [group for group in groups if group.exists()]
    finally:
        made.close()
