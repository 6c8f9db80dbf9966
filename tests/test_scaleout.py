"""Scale-out and a batch that always finishes: shards read from Slurm job arrays, Kubernetes Indexed Jobs
and CI matrices, the Dask executor on a real LocalCluster, and workers that hang or die.

Whichever way a class is graded, the merged gradebook, reports and printed-output files are byte for byte
those of one plain run."""
from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import batch_tools
import corpus_tools
import pytest
import scaleout_tools

from grader.assignment import load_assignment
from grader.batch import runner
from grader.batch.submissions import BatchInputError, Entry, parse_shard
from grader.cli import main
from grader.paths import REFERENCE_DIR

ROOT = Path(__file__).resolve().parent.parent
# Time limits small enough that the spinning submission is stopped quickly, the same in every run.
LIMITS = ["--time-limit", "3", "--probe-seconds", "1"]
MUTANTS = ("mul_overwrite", "tanh_sign_flipped", "backward_not_reversed")


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    """A correct engine, the untouched template, single-bug mutants, a syntax error, an engine that spins
    at import (stopped by the time limit) and one that prints whether it can see the grader's reference."""
    root = tmp_path_factory.mktemp("scaleout-class")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REFERENCE_DIR, root / "alice", ignore=ignore)
    shutil.copytree(ROOT / "student_template" / "micrograd", root / "bob" / "micrograd", ignore=ignore)
    mutants = {m["name"]: m for m in corpus_tools.load_mutants()}
    for name in MUTANTS:
        corpus_tools.build_mutant(mutants[name], root / f"m-{name}")
    shutil.copytree(REFERENCE_DIR, root / "frank", ignore=ignore)
    (root / "frank" / "micrograd" / "engine.py").write_text("def broken(:\n", encoding="utf-8")
    shutil.copytree(REFERENCE_DIR, root / "spinner", ignore=ignore)
    engine = root / "spinner" / "micrograd" / "engine.py"
    engine.write_text("while True:\n    pass\n" + engine.read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(REFERENCE_DIR, root / "snoop", ignore=ignore)
    engine = root / "snoop" / "micrograd" / "engine.py"
    seen = repr(str(REFERENCE_DIR / "micrograd" / "engine.py"))
    engine.write_text(f"import os\nprint('reference readable:', os.access({seen}, os.R_OK))\n"
                      + engine.read_text(encoding="utf-8"), encoding="utf-8")
    return root


def outputs(out: Path) -> dict[str, bytes]:
    """Every file a run leaves that a merge keeps: reports, printed output, gradebook and summary."""
    kept = {"report.json", "report.md", "output.txt", "gradebook.csv", "summary.md"}
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.name in kept}


@pytest.fixture(scope="module")
def plain(klass, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("plain")
    assert main(["grade", str(klass), "--out", str(out), "-j", "2", *LIMITS]) == 0
    found = outputs(out)
    assert {"gradebook.csv", "students/alice/report.json", "students/snoop/output.txt"} <= set(found)
    return found


def merged(shard_outs: list[Path], out: Path) -> dict[str, bytes]:
    assert main(["merge", *map(str, shard_outs), "--out", str(out)]) == 0
    return outputs(out)


@pytest.mark.parametrize("first", [0, 1])
def test_slurm_array_shards_merge_to_the_plain_run(klass, plain, tmp_path, monkeypatch, first):
    # `sbatch --array=0-2` numbers tasks from 0, `--array=1-3` from 1: both give the same three shards.
    shard_outs = []
    for task in range(first, first + 3):
        monkeypatch.setenv("SLURM_ARRAY_TASK_ID", str(task))
        monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "3")
        monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", str(first))
        shard_outs.append(tmp_path / f"task{task}")
        assert main(["grade", str(klass), "--out", str(shard_outs[-1]), "-j", "1", "--shard", "slurm", *LIMITS]) == 0
    sizes = [len(list((o / "students").iterdir())) for o in shard_outs]
    assert all(sizes) and sum(sizes) == len(list(klass.iterdir()))
    assert merged(shard_outs, tmp_path / "all") == plain


def test_kubernetes_indexed_job_and_ci_matrix_shards_merge_to_the_plain_run(klass, plain, tmp_path, monkeypatch):
    pods = []
    for index in (0, 1):
        monkeypatch.setenv("JOB_COMPLETION_INDEX", str(index))
        pods.append(tmp_path / f"pod{index}")
        assert main(["grade", str(klass), "--out", str(pods[-1]), "-j", "2", "--shard", "k8s:2", *LIMITS]) == 0
    assert merged(pods, tmp_path / "k8s") == plain
    matrix = [tmp_path / "matrix1", tmp_path / "matrix2"]
    monkeypatch.delenv("JOB_COMPLETION_INDEX")
    monkeypatch.setenv("MICROGRADE_SHARD_COUNT", "2")
    for k, out in enumerate(matrix, start=1):
        assert main(["grade", str(klass), "--out", str(out), "-j", "2", "--shard", f"{k}/2", *LIMITS]) == 0
    assert merged(matrix, tmp_path / "ci") == plain
    # The same slices: pod i grades what matrix entry i+1 grades.
    assert sorted(os.listdir(pods[0] / "students")) == sorted(os.listdir(matrix[0] / "students"))


def test_dask_executor_on_a_local_cluster_gives_the_plain_run(klass, plain, tmp_path, capsys):
    pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")
    out = tmp_path / "dask"
    assert main(["grade", str(klass), "--out", str(out), "-j", "2", "--executor", "dask", *LIMITS]) == 0
    assert "2 workers" in capsys.readouterr().err
    got = outputs(out)
    assert got == plain
    # The workers ran the submissions in the sandbox with its limits: the spinner was stopped by the time
    # limit, and the snooping engine saw what it sees in a plain run.
    spinner = got["students/spinner/report.json"].decode()
    assert "time" in spinner.lower() and '"score": 0' in spinner.replace(".0,", ",")


def test_dask_executor_on_a_given_scheduler_gives_the_plain_run(klass, plain, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        out = tmp_path / "scheduler"
        assert main(["grade", str(klass), "--out", str(out), "--executor", "dask", "--scheduler",
                     cluster.scheduler_address, *LIMITS]) == 0
    assert outputs(out) == plain


@pytest.mark.parametrize("text, environ, expected", [
    ("2/5", {}, (2, 5)),
    (" 3 / 3 ", {}, (3, 3)),
    ("slurm", {"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}, (4, 4)),
    ("slurm", {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"}, (1, 2)),
    ("SLURM", {"SLURM_ARRAY_TASK_ID": "10", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "2",
               "SLURM_ARRAY_TASK_STEP": "4"}, (3, 3)),
    ("k8s:4", {"JOB_COMPLETION_INDEX": "3"}, (4, 4)),
    ("k8s", {"JOB_COMPLETION_INDEX": "0", "MICROGRADE_SHARD_COUNT": "5"}, (1, 5)),
])
def test_shard_forms(text, environ, expected):
    assert parse_shard(text, environ) == expected


@pytest.mark.parametrize("text, environ, words", [
    ("0/2", {}, "K/N"),
    ("3/2", {}, "K/N"),
    ("slurm", {}, "SLURM_ARRAY_TASK_ID is not set"),
    ("slurm", {"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"}, "not a whole number"),
    ("slurm", {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1"}, "not one of"),
    ("slurm", {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_STEP": "2"}, "not one of"),
    ("k8s", {"JOB_COMPLETION_INDEX": "0"}, "k8s:N"),
    ("k8s:0", {"JOB_COMPLETION_INDEX": "0"}, "positive"),
    ("k8s:2", {}, "JOB_COMPLETION_INDEX is not set"),
    ("k8s:2", {"JOB_COMPLETION_INDEX": "2"}, "not below"),
])
def test_bad_shards_are_one_line_errors(text, environ, words):
    with pytest.raises(BatchInputError, match=words) as caught:
        parse_shard(text, environ)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("args, words", [
    (["--shard", "slurm"], "SLURM_ARRAY_TASK_ID"),
    (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --executor dask"),
])
def test_scaleout_usage_errors_exit_2(klass, tmp_path, capsys, monkeypatch, args, words):
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)
    assert main(["grade", str(klass), "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("jobs", [2, 4])
def test_redteam_a_stuck_and_a_dying_worker_and_the_batch_still_finishes(monkeypatch, tmp_path, jobs):
    # The stand-in leaves a file in its worker's temporary folder, then hangs (HANG) or dies (DIE) in the
    # middle of a chunk; the others of that chunk and every other chunk must still be graded.
    monkeypatch.setattr(runner, "grade_chunk", scaleout_tools.grade_chunk_with_a_stuck_and_a_dying_worker)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    ids = ["a", "b", scaleout_tools.HANG, "c", "d", scaleout_tools.DIE, "e", "f", "g", "h", "i"]
    got: dict[str, list] = {}
    before = batch_tools.spawned_children()
    # A generous bound per chunk: honest chunks here take milliseconds, only the stuck one reaches it.
    runner.grade_entries([Entry(i, tmp_path / i) for i in ids], load_assignment(), jobs,
                         lambda entry, result, _seconds: got.setdefault(entry.id, []).append(result),
                         chunk_size=3, budget=lambda size: 15.0)

    assert sorted(got) == sorted(ids) and all(len(results) == 1 for results in got.values())
    stuck, dead = got.pop(scaleout_tools.HANG)[0], got.pop(scaleout_tools.DIE)[0]
    assert stuck.status == "error" and "took longer than 15 s" in stuck.error and stuck.score == 0
    assert dead.status == "error" and "worker process died" in dead.error and dead.score == 0
    for student, (result,) in got.items():
        assert result.status == "graded" and result.notes[0].startswith("graded in process"), student
    assert batch_tools.spawned_children() - before == set()
    assert list(scratch.iterdir()) == []


DEEP_RECORD = '''"""Red team: a results line nested 99,000 lists deep, written at import to the grader's results pipe."""
import os
import sys

from micrograd.engine import Value

__all__ = ["Value"]


def _child_config():
    frame = sys._getframe()
    while frame is not None:
        config = frame.f_locals.get("config")
        if isinstance(config, dict) and "probes" in config and "results_fd" in config:
            return config
        frame = frame.f_back
    return None


_config = _child_config()
if _config is not None:
    try:
        os.write(_config["results_fd"], ("[" * 99000 + "]" * 99000 + "\\n").encode())
    except OSError:
        pass
    os._exit(0)
'''


def gradebook_rows(out: Path) -> dict[str, tuple[str, str]]:
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        return {row["student"]: (row["score"], row["status"]) for row in csv.DictReader(f)}


@pytest.mark.parametrize("jobs", [2, 4])
def test_redteam_a_deeply_nested_results_line_costs_only_its_submission(tmp_path, jobs):
    ignore = shutil.ignore_patterns("__pycache__")
    controls = tmp_path / "controls"
    for name in ("a", "b", "e", "f"):
        shutil.copytree(REFERENCE_DIR, controls / name, ignore=ignore)
    shutil.copytree(ROOT / "student_template" / "micrograd", controls / "c" / "micrograd", ignore=ignore)
    klass = tmp_path / "class"
    shutil.copytree(controls, klass)
    shutil.copytree(ROOT / "student_template" / "micrograd", klass / "d" / "micrograd", ignore=ignore)
    (klass / "d" / "micrograd" / "__init__.py").write_text(DEEP_RECORD, encoding="utf-8")
    assert main(["grade", str(controls), "--out", str(tmp_path / "alone"), "-j", "1", *LIMITS]) == 0
    assert main(["grade", str(klass), "--out", str(tmp_path / "out"), "-j", str(jobs), *LIMITS]) == 0
    rows, alone = gradebook_rows(tmp_path / "out"), gradebook_rows(tmp_path / "alone")
    assert set(rows) == {"a", "b", "c", "d", "e", "f"}
    assert {k: v for k, v in rows.items() if k != "d"} == alone
    # The hostile hand-in is accounted for, never above its base's honest score (the template, like c).
    assert float(rows["d"][0]) <= float(alone["c"][0])


def test_a_worker_stopped_from_outside_is_not_blamed_on_its_chunk(monkeypatch, tmp_path):
    # SIGTERM to a worker (as when a terminal's Ctrl-C or `kill` reaches the whole process group) ends its
    # task with SystemExit: the chunk is sent again whole, and no submission gets an error for it.
    monkeypatch.setattr(runner, "grade_chunk", scaleout_tools.grade_chunk_stopped_once)
    monkeypatch.setenv("MICROGRADE_TEST_MARKER", str(tmp_path / "marker"))
    ids = ["a", scaleout_tools.STOPPED_ONCE, "b", "c"]
    got: dict[str, list] = {}
    runner.grade_entries([Entry(i, tmp_path / i) for i in ids], load_assignment(), 2,
                         lambda entry, result, _seconds: got.setdefault(entry.id, []).append(result), chunk_size=2)
    assert (tmp_path / "marker").exists()
    assert sorted(got) == sorted(ids) and all(len(results) == 1 for results in got.values())
    assert all(results[0].status != "error" for results in got.values()), got
