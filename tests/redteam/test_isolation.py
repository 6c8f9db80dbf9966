"""What a job can see and touch, in each isolation the grader runs student code in as root.

A prober hand-in (submissions/sandbox_prober) tries, at import: to be root, to read the checkout's
reference, copies of it elsewhere on disk (outside /tmp), a file of another grading process's staged copy
and the grader's command line, and to write into an output folder. The grading process is a subprocess
whose command line holds a marker, with its isolation forced: bubblewrap, the project's own namespaces
(unshare), or, as in a container without CAP_SYS_ADMIN, no namespaces at all (chroot).

Then a whole batch in that last mode: the attacks that only root's sandbox can stop, graded beside honest
controls that score exactly as alone.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from redteam.build import REFERENCE_PACKAGE, REPO_DIR, SUBMISSIONS_DIR, build_base, build_hostile, load_hostiles

from grader.sandbox import isolation

AS_ROOT = os.name == "posix" and os.geteuid() == 0
MODES = {way.mode for way in isolation.available()}
RUN = uuid.uuid4().hex[:12]
MARKER = f"micrograde-redteam-{RUN}-grader"
NO_NAMESPACES = {isolation.DENY_ENV: "bwrap,unshare"}

PROBE_SCRIPT = """
import json, sys
from pathlib import Path
from grader.sandbox import isolation, process
mode, hand_in, peer_file = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
process.isolations = lambda: tuple(w for w in isolation.available() if w.mode == mode)
peer = process.Sandbox(1)  # another grading process's server, with a staged copy of its own
staged = peer.workdir() / "peer"
(staged / "micrograd").mkdir(parents=True)
(staged / "micrograd" / "engine.py").write_text("# another student's engine\\n")
peer.hand_over(staged)
targets = json.loads(sys.argv[4])
targets["peer"] = str(staged / "micrograd" / "engine.py")
init = hand_in / "micrograd" / "__init__.py"
init.write_text(init.read_text().replace("{targets}", json.dumps(targets)))
from grader.pipeline import probe_submission
probed = probe_submission(hand_in)
assert process.sandbox().isolation.mode == mode, process.sandbox().isolation
print(probed.output)
peer.close()
"""


@pytest.fixture(scope="module")
def copies():
    """Copies of the reference engine outside /tmp, where a class folder or a second checkout might be."""
    folders = [Path(f"/srv/micrograde-redteam-{RUN}-copy"), Path(f"/opt/micrograde-redteam-{RUN}/reference/micrograd")]
    made = []
    try:
        for folder in folders:
            folder.mkdir(parents=True)
            made.append(folder)
            shutil.copyfile(REFERENCE_PACKAGE / "engine.py", folder / "engine.py")
            for path in [folder, *folder.parents]:
                if path == Path("/"):
                    break
                path.chmod(path.stat().st_mode | 0o755)
        yield [str(folder / "engine.py") for folder in folders]
    finally:
        for folder in made:
            shutil.rmtree(folder if folder.parent.parent == Path("/") else folder.parents[2], ignore_errors=True)


@pytest.mark.skipif(not AS_ROOT, reason="a job user and an isolation of its own need root")
@pytest.mark.parametrize("mode", ["bwrap", "unshare", "chroot"])
def test_a_job_sees_only_its_own_copy(tmp_path, copies, mode):
    if mode not in MODES:
        pytest.skip(f"{mode} isolation does not work here (bubblewrap missing, or no CAP_SYS_ADMIN / CAP_SYS_CHROOT)")
    out = Path(f"/srv/micrograde-redteam-{RUN}-out")
    out.mkdir(mode=0o755)
    try:
        hand_in = build_base("template", tmp_path / "prober")
        shutil.copyfile(SUBMISSIONS_DIR / "sandbox_prober" / "micrograd" / "__init__.py", hand_in / "micrograd" / "__init__.py")
        targets = {"reference": str(REFERENCE_PACKAGE / "engine.py"), "copies": copies, "out": str(out), "marker": MARKER}
        run = subprocess.run([sys.executable, "-c", PROBE_SCRIPT, mode, str(hand_in), MARKER, json.dumps(targets)],
                             cwd=REPO_DIR, capture_output=True, text=True, timeout=300, check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        lines = [line for line in run.stdout.splitlines() if line.startswith("PROBE ")]
        leaks = [line for line in lines if line.startswith("PROBE LEAK")]
        if mode != "chroot":  # with a PID namespace the parent is the sandbox server, whose command line is its own
            leaks = [line for line in leaks if "parent command line" not in line]
        assert not leaks, "\n".join(leaks)
        expected = {"uid 0", "reference", "peer", "parent command line", "grader command line", "out",
                    *(f"copy {c}" for c in copies)}
        assert {line.split(" ", 2)[2].split(":")[0] for line in lines} == expected, run.stdout[-3000:]
        assert list(out.iterdir()) == []
    finally:
        shutil.rmtree(out, ignore_errors=True)


# ------------------------------------------------------------------------- a batch without namespaces

def cli(*args: str, tmpdir: Path, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO_DIR, capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, "TMPDIR": str(tmpdir), **env})


def outcome(report: dict) -> tuple:
    return (report["score"], report["status"], [(p["id"], p["score"], p["status"]) for p in report["parts"]])


@pytest.mark.skipif(not AS_ROOT or "chroot" not in MODES, reason="the chroot fallback needs root and CAP_SYS_CHROOT")
def test_without_namespaces_root_only_attacks_fail_and_controls_keep_their_scores(tmp_path):
    hostiles = [h for h in load_hostiles() if h.root_only]
    klass, out, grader_tmp = (tmp_path / f"micrograde-redteam-{RUN}-class", tmp_path / f"micrograde-redteam-{RUN}-out",
                              tmp_path / "grader-tmp")
    klass.mkdir()
    grader_tmp.mkdir()
    entries = {h.name: build_hostile(h, klass, RUN) for h in hostiles}
    controls = {"control_reference": build_base("reference", klass / "control_reference"),
                "control_mutant": build_base("mutant:mul_swapped_factors", klass / "control_mutant")}
    targets = [t for h in hostiles for t in h.targets_in(klass, out, RUN)]
    alone = {}
    for name, path in controls.items():
        run = cli("check", str(path), "--format", "json", tmpdir=grader_tmp, env={})
        alone[name] = json.loads(run.stdout)
    template = json.loads(cli("check", str(REPO_DIR / "student_template"), "--format", "json", tmpdir=grader_tmp,
                              env={}).stdout)
    try:
        run = cli("grade", str(klass), "--out", str(out), "-j", "2", "--force", "--probe-seconds", "1",
                  "--time-limit", "10", tmpdir=grader_tmp, env=NO_NAMESPACES)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Traceback" not in run.stdout + run.stderr
        reports = {name: json.loads((out / "students" / name / "report.json").read_text())
                   for name in [*entries, *controls]}
        for name in entries:
            assert reports[name]["score"] <= template["score"], f"{name} scored {reports[name]['score']}"
        for name in controls:
            assert outcome(reports[name]) == outcome(alone[name]), name
        students = sorted(p.name for p in (out / "students").iterdir())
        assert students == sorted([*entries, *controls])
        left = [path for pattern in targets for path in map(str, Path("/").glob(pattern.lstrip("/")))]
        assert not left, left
        assert list(grader_tmp.iterdir()) == []
    finally:
        for pattern in targets:
            for path in Path("/").glob(pattern.lstrip("/")):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


@pytest.mark.skipif(not AS_ROOT, reason="only root is refused")
def test_grade_without_any_isolation_is_refused_in_one_line(tmp_path):
    klass = tmp_path / "class"
    build_base("reference", klass / "alice")
    run = cli("grade", str(klass), "--out", str(tmp_path / "out"), tmpdir=tmp_path,
              env={isolation.DENY_ENV: "bwrap,unshare,chroot"})
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("micrograde grade: refusing to run student code as root without a sandbox")
    assert not (tmp_path / "out" / "students").exists()


def python_closed_to_others() -> bool:
    return any(not os.stat(folder).st_mode & 0o001 for folder in Path(isolation.interpreter()).parents)


@pytest.mark.skipif(not AS_ROOT or not python_closed_to_others(),
                    reason="needs root, with the Python installation under a folder other users may not enter")
def test_the_accepted_risk_still_never_runs_jobs_as_root(tmp_path):
    """--unsafe-sandbox where the job user cannot reach Python: refused in one line rather than run as root."""
    run = cli("check", str(REPO_DIR / "reference"), "--unsafe-sandbox", tmpdir=tmp_path,
              env={isolation.DENY_ENV: "bwrap,unshare,chroot"})
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "who may not enter" in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.skipif(not AS_ROOT or python_closed_to_others(),
                    reason="needs root, with the Python installation readable by other users")
def test_the_accepted_risk_is_said_in_every_report(tmp_path):
    run = cli("check", str(REPO_DIR / "reference"), "--unsafe-sandbox", "--format", "json", tmpdir=tmp_path,
              env={isolation.DENY_ENV: "bwrap,unshare,chroot"})
    assert run.returncode == 0, run.stderr
    assert isolation.UNSAFE_NOTE in json.loads(run.stdout)["notes"]
