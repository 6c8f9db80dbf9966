"""The red-team corpus (tests/redteam/) graded in one batch beside honest controls.

One `micrograde grade` run over every hostile hand-in of tests/redteam/manifest.toml and a few honest ones,
as one class. Afterwards every hand-in has a report; no hostile one scores above the honest code it started
from, in total or in any part; the controls score exactly as when graded alone; no process any of them
started is still running; and nothing outside the output folder changed. The attacks marked `root_only`
can only be stopped by the sandbox the grader sets up as root (namespaces, a user id of the child's own):
as root they are held to all of the above, elsewhere only to being graded.

Also here: an engine whose `Value.data` is a string, NaN, complex or an int too large for a float gets one
clear sentence and a zero for that part, and no traceback.
"""
from __future__ import annotations

import contextlib
import csv
import fnmatch
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from redteam.build import REPO_DIR, Hostile, build_bad_value, build_base, build_hostile, load_bad_values, load_hostiles

AS_ROOT = os.name == "posix" and os.geteuid() == 0
LIMITS = ("--probe-seconds", "1", "--time-limit", "10")
JOBS = 2
HOSTILES = load_hostiles()
ROOT_ONLY = {h.name for h in HOSTILES if h.root_only}
CONTROLS = ("control_reference", "control_mutant", "control_bob", "control_dave")
MUTANT = "mutant:mul_swapped_factors"
# This run's token, so that runs side by side neither see nor blame each other's processes and folders.
RUN = uuid.uuid4().hex[:12]
# Where a hostile's process can be recognised: its own marker, or the grader's temporary folder in the
# command line of a sandboxed child (a bare fork keeps its parent's command line).
PROCESS_MARK = f"micrograde-redteam-{RUN}-".encode()
GRADER_FAILURES = ("the grader failed", "the grader's worker process died")
# Caches and tools, not the checkout's content.
UNWATCHED = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
SETTLE_SECONDS = 5.0


def make_control(name: str, folder: Path) -> Path:
    """An honest hand-in: the reference, a single-bug mutant, and two of the examples (a package, a notebook)."""
    if name == "control_reference":
        return build_base("reference", folder / name)
    if name == "control_mutant":
        return build_base(MUTANT, folder / name)
    if name == "control_bob":
        return Path(shutil.copytree(REPO_DIR / "examples" / "bob", folder / name))
    return Path(shutil.copyfile(REPO_DIR / "examples" / "dave.ipynb", folder / f"{name}.ipynb"))


def cli(*args: str, tmpdir: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run `micrograde ARGS` from the checkout, with the grader's temporary files under `tmpdir`."""
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    process = subprocess.Popen([sys.executable, "-m", "grader", *args], cwd=REPO_DIR, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"`micrograde {' '.join(args)}` did not finish within {timeout:.0f} s")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def check_alone(path: Path, tmpdir: Path) -> dict:
    run = cli("check", str(path), "--format", "json", *LIMITS, tmpdir=tmpdir, timeout=300)
    assert run.returncode in (0, 1), f"`micrograde check {path.name}` failed:\n{run.stderr[-2000:]}"
    return json.loads(run.stdout)


def outcome(report: dict) -> tuple:
    """What must not depend on the company a hand-in is graded in: score, status, and each part's points."""
    return (report["score"], report["status"], [(p["id"], p["score"], p["status"]) for p in report["parts"]])


# ------------------------------------------------------------------------------------ files and processes

def snapshot(root: Path) -> dict[str, tuple]:
    """Every file, link and folder under `root` (caches left out): kind, and size and sha256 for files."""
    found: dict[str, tuple] = {}
    if not root.exists():
        return found
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in UNWATCHED)
        for name in [*dirs, *files]:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("folder",)
            else:
                try:
                    found[rel] = ("file", path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
                except OSError as exc:
                    found[rel] = ("unreadable", exc.errno)
    return found


def differences(root: Path, before: dict, after: dict) -> list[str]:
    """Absolute paths that appeared, disappeared or changed between two snapshots of `root`."""
    return sorted(str(root / rel) for rel in set(before) | set(after) if before.get(rel) != after.get(rel))


def marked_processes(marks: tuple[bytes, ...]) -> dict[int, str]:
    """Running processes (other than this one) whose command line holds one of `marks`."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if any(mark in cmdline for mark in marks):
            found[int(name)] = cmdline.replace(b"\0", b" ").decode("utf-8", "replace").strip()[:300]
    return found


def attacker(cmdline: str) -> str | None:
    """The hostile hand-in named by a process's red-team marker, if it has one."""
    marker = PROCESS_MARK.decode()
    if marker not in cmdline:
        return None
    return cmdline.split(marker, 1)[1].split()[0].strip("'\"")


def sysv_objects() -> set[tuple[str, str]]:
    """(kind, key and id) of every System V object this machine's IPC namespace holds."""
    found = set()
    for kind in ("shm", "msg", "sem"):
        with contextlib.suppress(OSError):
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
            found |= {(kind, " ".join(line.split()[:2])) for line in lines}
    return found


def kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# -------------------------------------------------------------------------------------------- the batch

@dataclass
class Batch:
    klass: Path
    out: Path
    entries: dict[str, Path]
    run: subprocess.CompletedProcess
    reports: dict[str, dict]
    gradebook: list[dict]
    alone: dict[str, dict]  # control name or base -> report when graded alone
    changed: list[str]  # paths outside the output folder that changed
    sysv_left: set[tuple[str, str]]  # System V objects that appeared during the batch
    leftovers: dict[int, str]  # pid -> command line
    targets: dict[str, list[str]]  # hostile name -> its target globs

    def exempt(self, path: str) -> bool:
        """Whether `path` is one a root-only attack may write when the grader is not root."""
        return not AS_ROOT and any(fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*")
                                   for name in ROOT_ONLY for pattern in self.targets[name])


def _remove(pattern: str) -> None:
    for path in glob.glob(pattern):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            Path(path).unlink(missing_ok=True)


def settle(marks: tuple[bytes, ...]) -> dict[int, str]:
    """The marked processes still running once the others have had SETTLE_SECONDS to go away."""
    deadline = time.monotonic() + SETTLE_SECONDS
    running = marked_processes(marks)
    while running and time.monotonic() < deadline:
        time.sleep(0.2)
        running = marked_processes(marks)
    return running


def read_reports(out: Path, students) -> dict[str, dict]:
    found = {}
    for student in students:
        report = out / "students" / student / "report.json"
        if report.is_file():
            found[student] = json.loads(report.read_text(encoding="utf-8"))
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    root = tmp_path_factory.mktemp("redteam")
    klass, out = root / f"micrograde-redteam-{RUN}-class", root / f"micrograde-redteam-{RUN}-out"
    honest, grader_tmp = root / "honest", root / "grader-tmp"
    for folder in (klass, honest, grader_tmp):
        folder.mkdir()
    entries = {h.name: build_hostile(h, klass, RUN) for h in HOSTILES}
    entries.update({name: make_control(name, klass) for name in CONTROLS})
    targets = {h.name: h.targets_in(klass, out, RUN) for h in HOSTILES}
    marks = (PROCESS_MARK, str(grader_tmp).encode())
    try:
        alone = {name: check_alone(make_control(name, honest), grader_tmp) for name in CONTROLS}
        alone["template"] = check_alone(REPO_DIR / "student_template", grader_tmp)
        for base in sorted({h.base for h in HOSTILES} - {"template"}):
            alone[base] = check_alone(build_base(base, honest / base.replace(":", "-")), grader_tmp)

        watched = (REPO_DIR, klass, grader_tmp)
        before = [snapshot(folder) for folder in watched]
        sysv_before = sysv_objects()
        guard = 120 + len(entries) * 2 * 20 / JOBS  # a hang guard: every stage of every hand-in at its limit, and more
        run = cli("grade", str(klass), "--out", str(out), "-j", str(JOBS), "--force", *LIMITS, tmpdir=grader_tmp,
                  timeout=guard)
        leftovers = settle(marks)
        sysv_left = sysv_objects() - sysv_before
        changed = [path for folder, old in zip(watched, before) for path in differences(folder, old, snapshot(folder))]
        changed += [path for patterns in targets.values() for pattern in patterns if not pattern.startswith(str(out))
                    for path in glob.glob(pattern) if path not in changed]

        gradebook_file = out / "gradebook.csv"
        gradebook = list(csv.DictReader(gradebook_file.open(encoding="utf-8"))) if gradebook_file.is_file() else []
        yield Batch(klass, out, entries, run, read_reports(out, entries), gradebook, alone, changed, sysv_left,
                    leftovers, targets)
    finally:
        kill(marked_processes(marks))
        for pattern in (p for patterns in targets.values() for p in patterns):
            _remove(pattern)


# ---------------------------------------------------------------------------------------------- checks

def test_the_batch_runs_to_the_end_without_a_traceback(batch):
    assert batch.run.returncode == 0, batch.run.stderr[-3000:]
    assert "Traceback (most recent call last)" not in batch.run.stdout + batch.run.stderr, batch.run.stderr[-3000:]


@pytest.mark.parametrize("name", [h.name for h in HOSTILES] + list(CONTROLS))
def test_every_hand_in_gets_a_report(batch, name):
    report = batch.reports.get(name)
    assert report is not None, f"{name}: no report.json in the output folder"
    assert report["status"] in ("graded", "error")
    error = report.get("error") or ""
    assert not error.startswith(GRADER_FAILURES), f"{name}: {error}"
    assert "Traceback (most recent call last)" not in json.dumps(report), f"{name}: a traceback in the report"


@pytest.mark.parametrize("hostile", HOSTILES, ids=[h.name for h in HOSTILES])
def test_a_hostile_hand_in_scores_at_most_its_honest_code(batch, hostile: Hostile):
    report = batch.reports.get(hostile.name)
    assert report is not None, f"{hostile.name}: no report.json"
    if hostile.root_only and not AS_ROOT:
        # Only the root-run sandbox can stop this attack; without it, the promise is that it is graded.
        assert report["status"] in ("graded", "error")
        return
    honest = batch.alone[hostile.base]
    assert report["score"] <= honest["score"], (
        f"{hostile.name} ({hostile.attack}) scored {report['score']:g}, above the {honest['score']:g} of its "
        f"honest code ({hostile.base})")
    ceiling = {p["id"]: p["score"] for p in honest["parts"]}
    above = [f"{p['id']} {p['score']:g} > {ceiling[p['id']]:g}" for p in report["parts"] if p["score"] > ceiling[p["id"]]]
    assert not above, f"{hostile.name} ({hostile.attack}) gained points in: {', '.join(above)}"


@pytest.mark.parametrize("name", CONTROLS)
def test_a_control_scores_as_when_graded_alone(batch, name):
    assert name in batch.reports, f"{name}: no report.json"
    assert outcome(batch.reports[name]) == outcome(batch.alone[name])


def test_the_gradebook_lists_exactly_the_class(batch):
    students = {row["student"] for row in batch.gradebook}
    extra = {s for s in students - set(batch.entries) if not batch.exempt(str(batch.out / "students" / s))}
    assert not extra, f"students nobody handed in appear in the gradebook: {sorted(extra)}"
    assert set(batch.entries) <= students, f"missing from the gradebook: {sorted(set(batch.entries) - students)}"
    for row in batch.gradebook:
        if row["student"] in batch.reports:
            assert float(row["score"]) == pytest.approx(batch.reports[row["student"]]["score"], rel=1e-4)


def test_no_process_outlives_the_batch(batch):
    left = {pid: cmd for pid, cmd in batch.leftovers.items() if AS_ROOT or attacker(cmd) not in ROOT_ONLY}
    assert not left, "still running after the batch:\n" + "\n".join(f"{pid}: {cmd}" for pid, cmd in left.items())


@pytest.mark.skipif(not AS_ROOT, reason="without root, jobs run as the grader's own user, whose objects are not the job's")
def test_no_system_v_object_outlives_the_batch(batch):
    assert not batch.sysv_left, f"System V objects left by the batch: {sorted(batch.sysv_left)}"


@pytest.mark.parametrize("hostile", [h for h in HOSTILES if h.expect and h.form != "pipe-records"], ids=lambda h: h.name)
def test_the_report_says_what_the_grader_stopped(batch, hostile: Hostile):
    if hostile.root_only and not AS_ROOT:
        pytest.skip("only the sandbox root sets up stops this attack")
    assert hostile.expect in json.dumps(batch.reports.get(hostile.name)), f"{hostile.name}: no {hostile.expect!r}"


def test_nothing_outside_the_output_folder_changes(batch):
    changed = [path for path in batch.changed if not batch.exempt(path)]
    assert not changed, ("changed outside the output folder (anything else that wrote to the checkout during the "
                         "run shows up here too):\n" + "\n".join(changed))


@pytest.mark.parametrize("hostile", [h for h in HOSTILES if h.form == "pipe-records"], ids=lambda h: h.name)
def test_a_malformed_record_costs_its_submission_only_and_says_why(batch, hostile: Hostile):
    """Whatever the child writes to the results pipe, its report stays small and names what was refused."""
    report_file = batch.out / "students" / hostile.name / "report.json"
    assert report_file.is_file(), f"{hostile.name}: no report.json"
    assert report_file.stat().st_size < 1 << 20, f"{hostile.name}: report.json of {report_file.stat().st_size} bytes"
    text = report_file.read_text(encoding="utf-8")
    assert batch.reports[hostile.name]["status"] == "graded"
    assert "INTERNALERROR" not in text
    if hostile.expect:
        assert hostile.expect in text, f"{hostile.name}: the report does not say {hostile.expect!r}"


# ------------------------------------------------------------------------------------------- bad numbers

def refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


@pytest.mark.parametrize("entry", load_bad_values(), ids=[e["name"] for e in load_bad_values()])
def test_value_data_that_is_no_real_number_costs_its_part_with_a_clear_message(tmp_path, entry):
    hand_in = build_bad_value(entry, tmp_path / "hand-in")
    runs = {fmt: cli("check", str(hand_in), "--format", fmt, *LIMITS, tmpdir=tmp_path, timeout=300)
            for fmt in ("json", "text")}
    for fmt, run in runs.items():
        assert run.returncode == 1, f"--format {fmt}: exit {run.returncode}\n{run.stderr[-2000:]}"
        assert "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    report = json.loads(runs["json"].stdout, parse_constant=refuse_constant)
    parts = {p["id"]: p for p in report["parts"]}
    assert report["status"] == "graded"
    assert (parts["exp"]["score"], parts["exp"]["diagnosis"]) == (0, "not_a_number")
    said = f"expected a real number, got {entry['got']}"
    assert said in parts["exp"]["message"]
    assert said in runs["text"].stdout
    assert all(p["score"] == p["max_score"] for part, p in parts.items() if part != "exp")


def test_a_notebook_nested_too_deeply_is_refused_even_with_the_recursion_limit_raised(tmp_path):
    """The grader raises the recursion limit for the reference engine; json's parser would then overflow the
    C stack on a deeply nested notebook and take the grading process down with it."""
    hostile = next(h for h in HOSTILES if h.form == "notebook-nested")
    notebook = build_hostile(hostile, tmp_path, RUN)
    script = ("import sys\n"
              "from pathlib import Path\n"
              "from grader.load import SubmissionError, load_submission\n"
              "from grader.probes.runners import raise_recursion_limit\n"
              "raise_recursion_limit()\n"
              "try:\n"
              f"    load_submission(Path({str(notebook)!r}), Path({str(tmp_path / 'work')!r}))\n"
              "except SubmissionError as exc:\n"
              "    print(exc)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO_DIR, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, f"the loading process ended with {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.strip() == f"{notebook.name} is not a valid notebook: its JSON is nested too deeply"
