"""The bench script's plumbing (benchmarks/run.py): `--against REV` checks REV out in a temporary worktree
that runs on the right packages and is removed afterwards, figures are printed side by side with their
ratio, and bad input is one line. No figure is asserted: speed is for `make bench` to print."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

pytestmark = pytest.mark.skipif(subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                                               check=False).returncode != 0, reason="not a git checkout")


def worktrees() -> str:
    return subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_against_checks_the_commit_out_in_a_temporary_worktree_and_removes_it():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    with bench.Worktree("HEAD") as other:
        assert other.commit == head and str(other.path) in worktrees()
        assert (other.path / "grader" / "__init__.py").is_file()
        # Same pins as this checkout: it runs on this environment, its own folder first on the import path.
        assert other.python == sys.executable
        found = subprocess.run([other.python, "-c", "import grader; print(grader.__file__)"], cwd="/",
                               env={"PYTHONPATH": str(other.path)}, capture_output=True, text=True, check=True)
        assert Path(found.stdout.strip()).is_relative_to(other.path)
    assert str(other.path) not in worktrees() and not other.parent.exists()


def test_a_commit_with_other_pins_gets_an_environment_of_its_own(tmp_path):
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert not bench.needs_own_environment(tmp_path)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8").replace("pytest==", "pytest==0.0.0+", 1)
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    assert bench.needs_own_environment(tmp_path)


def test_an_unknown_revision_is_one_line_exit_2(capsys):
    assert bench.main(["--quick", "--against", "no-such-revision-anywhere"]) == 2
    err = capsys.readouterr().err
    assert "no-such-revision-anywhere" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def figures(scale: float, part: float | None) -> dict:
    batch = {"count": 8, "wall": 4.0 * scale, "median": 0.1 * scale, "peak_tree": 3e8, "peak_process": 9e7}
    return {"check": 0.5 * scale, "check_part": part, "small": {**batch, "count": 2}, "full": batch,
            "naive": 0.6, "phases": {"load": 2.0 * scale, "judging: pytest's own start-up (once per chunk)": 90.0}}


def test_side_by_side_prints_both_figures_and_their_ratio():
    text = bench.side_by_side(figures(2.0, None), figures(1.0, 0.1), "this", "17e728f")
    assert "17e728f" in text.splitlines()[0] and "ratio" in text.splitlines()[0]
    check = next(line for line in text.splitlines() if line.startswith("micrograde check reference,"))
    assert "1.00 s" in check and "0.50 s" in check and check.rstrip().endswith("2.00x")
    part = next(line for line in text.splitlines() if "--part" in line)
    assert "n/a" in part and "0.10 s" in part and not part.rstrip().endswith("x")
    assert any("per submission: load" in line and "4.0 ms" in line and "2.0 ms" in line for line in text.splitlines())
    assert any("once per chunk" in line and "per submission" not in line for line in text.splitlines())


def test_the_class_mixes_every_kind_and_mutants_from_the_corpus(tmp_path):
    made = bench.generate(tmp_path / "class", 60)
    assert set(made) == set(bench.MIX) | {"timeout"} and sum(made.values()) == 60
    entries = sorted(p.name for p in (tmp_path / "class").iterdir())
    assert len(entries) == 60
    engines = [p.read_text(encoding="utf-8") for p in (tmp_path / "class").glob("*_mutant/micrograd/engine.py")]
    assert len(set(engines)) == len(engines)  # each one different, nothing to reuse across submissions


def test_a_whole_tiny_run_against_head(capsys):
    code = bench.main(["--count", "4", "--naive-sample", "1", "--phase-sample", "2", "--check-runs", "1",
                       "--jobs", "1", "--against", "HEAD"])
    out = capsys.readouterr().out
    assert code == 0
    table = out[out.index("figure"):].splitlines()
    assert "HEAD" in table[0] and any(line.startswith("batch, 4 submissions") for line in table)
    assert any("per submission: probing: engine stage" in line for line in table)
    assert "HEAD" not in worktrees().replace("HEAD ", "")
