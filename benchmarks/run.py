"""Speed and memory of grading, printed as figures beside their targets (no assertions), and where the
time goes per submission.

    .venv/bin/python benchmarks/run.py [--quick | --count N] [--jobs J] [--naive-sample S] [--against REV]

Figures: one `micrograde check` of a correct submission and of one `--part` (skipped where the option does
not exist), and both again in a process that graded before (what `--watch` and the notebook's `check()`
cost on every save); N generated submissions graded by the batch path beside the naive loop (one `micrograde
check` process per submission, one after another, on a sample, extrapolated), with the largest process's
peak memory at N/4 and N; and per submission, the time spent loading, probing (each stage), computing the
reference's answers, judging (pytest's own start-up apart) and reporting.

The class is a realistic mix made from the project's own corpus: correct variants written in several
styles, every single-bug mutant of tests/corpus/mutants.toml in turn, partial (engine done, training not
started) and untouched templates, syntax errors, empty folders and a few that spin until the time limit.

`--against REV` builds REV in a temporary git worktree and measures both commits on the same class in one
run, side by side with their ratio. REV runs on this environment's packages (its folder first on the
import path) when its dependency pins are this checkout's, and in a virtual environment of its own
otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
# The same limits for every commit measured, so a submission that spins costs a few seconds, not minutes.
LIMIT_ARGS = ["--probe-seconds", "1", "--time-limit", "3"]
# Shares of the mix (out of 100); "timeout" submissions are added on top, one per 250.
MIX = {"correct": 20, "mutant": 52, "partial": 8, "not_started": 8, "syntax_error": 6, "empty": 6}
PART = "add"


class BenchError(Exception):
    """A bad option or a revision that cannot be built; one line for the user."""


# --------------------------------------------------------------------------------------- the class

def generate(root: Path, count: int, seed: int = 0) -> dict[str, int]:
    """`count` submissions of the MIX (plus the spinning ones), each one different (a student's own header
    line), so nothing can be reused from another submission's grading. Returns how many of each kind."""
    sys.path.insert(0, str(ROOT / "tests"))
    import corpus_tools

    mutants, variants = corpus_tools.load_mutants(), corpus_tools.load_variants()
    rng = random.Random(seed)
    kinds = [kind for kind, share in MIX.items() for _ in range(share)]
    plan = [kinds[rng.randrange(len(kinds))] for _ in range(count)]
    for i in range(count // 250 or int(count >= 20)):
        plan[(i * 997 + 13) % count] = "timeout"
    made: dict[str, int] = {}
    root.mkdir(parents=True, exist_ok=True)
    for i, kind in enumerate(plan):
        folder = root / f"s{i:04d}_{kind}"
        n = made.get(kind, 0)
        made[kind] = n + 1
        if kind == "empty":
            folder.mkdir()
            continue
        if kind == "correct":
            variant = variants[n % (len(variants) + 1) - 1] if n % (len(variants) + 1) else None
            if variant is None:
                corpus_tools.copy_reference(folder)
            else:
                built = corpus_tools.build_variant(variant, folder)
                if built.is_file():  # a single .py or notebook: it is the submission
                    target = root / f"{folder.name}{built.suffix}"
                    shutil.move(built, target)
                    folder.rmdir()
                    _stamp(target, i)
                    continue
        elif kind == "mutant":
            corpus_tools.build_mutant(mutants[n % len(mutants)], folder)
        elif kind in ("not_started", "partial"):
            shutil.copytree(ROOT / "student_template" / "micrograd", folder / "micrograd",
                            ignore=shutil.ignore_patterns("__pycache__"))
            if kind == "partial":
                shutil.copyfile(ROOT / "reference" / "micrograd" / "engine.py", folder / "micrograd" / "engine.py")
        else:
            corpus_tools.copy_reference(folder)
        engine = folder / "micrograd" / "engine.py"
        if kind == "syntax_error":
            engine.write_text(engine.read_text(encoding="utf-8").replace("def exp(self):", "def exp(self)", 1),
                              encoding="utf-8")
        elif kind == "timeout":
            engine.write_text("while True:\n    pass\n" + engine.read_text(encoding="utf-8"), encoding="utf-8")
        _stamp(engine, i)
    return made


def _stamp(path: Path, i: int) -> None:
    if path.suffix == ".py":
        path.write_text(f"# micrograd, as written by student {i:04d}\n" + path.read_text(encoding="utf-8"),
                        encoding="utf-8")


# ------------------------------------------------------------------------------------------- memory

def tree_rss(pid: int) -> tuple[int, int]:
    """Resident memory of `pid` and all its descendants, and of the largest single one, in bytes (/proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, largest, stack = 0, 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        largest = max(largest, rss.get(p, 0))
        stack.extend(children.get(p, []))
    return total, largest


class PeakSampler:
    def __init__(self, interval: float = 0.2):
        self.peak, self.largest, self.interval, self._stop = 0, 0, interval, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total, largest = tree_rss(os.getpid())
            self.peak, self.largest = max(self.peak, total), max(self.largest, largest)
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()


# -------------------------------------------------------------- measuring one commit (its own process)

def limits():
    try:
        from grader.sandbox.process import JobLimits
    except ImportError:  # a commit measured beside this one that names it as it did then
        from grader.sandbox.process import Limits as JobLimits

    return JobLimits(probe_seconds=float(LIMIT_ARGS[1]), total_seconds=float(LIMIT_ARGS[3]),
                  cpu_seconds=int(float(LIMIT_ARGS[3])) + 1)


def check_once(python: str, tree: Path, args: list[str]) -> float | None:
    """Wall time of one `micrograde check ARGS` of `tree` as a fresh process; None when an option is unknown."""
    start = time.perf_counter()
    done = subprocess.run([python, "-m", "grader", "check", *args], cwd=tree, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tree)}, check=False)
    took = time.perf_counter() - start
    if done.returncode == 2 and "unrecognized arguments" in done.stderr:
        return None
    return took


def compile_bytecode(python: str, tree: Path) -> None:
    """Compile `tree`'s packages ahead, as pip does for an installed grader: where bytecode is not written
    (PYTHONDONTWRITEBYTECODE), a checkout's would otherwise be compiled again by every process measured."""
    subprocess.run([python, "-m", "compileall", "-q", *(str(tree / name) for name in ("grader", "micrograde")
                                                          if (tree / name).is_dir())],
                   cwd=tree, capture_output=True, check=False)


def check_figures(trees: list[tuple[str, Path]], repeat: int) -> list[dict]:
    """The fastest of `repeat` runs of each `check` figure, the commits taking turns run by run, so that
    the load of a shared machine falls on both alike."""
    for python, tree in trees:
        compile_bytecode(python, tree)
    times: list[dict[str, list]] = [{"check": [], "check_part": []} for _ in trees]
    for _ in range(repeat):
        for (python, tree), mine in zip(trees, times):
            reference = str(tree / "reference")
            mine["check"].append(check_once(python, tree, [reference]))
            mine["check_part"].append(check_once(python, tree, [reference, "--part", PART]))
    return [{name: None if None in runs else min(runs) for name, runs in mine.items()} for mine in times]


def batch(folder: Path, out: Path, jobs: int) -> dict:
    """Grade like `micrograde grade --force` does, keeping each submission's time."""
    from grader.assignment import load_assignment
    from grader.batch.runner import grade_entries
    from grader.batch.store import StudentStore, content_hash, grader_key

    try:
        from grader.batch.rebuild import rebuild
        from grader.batch.submissions import find_submissions
    except ImportError:  # a commit measured beside this one, from before these modules
        from grader.batch.discover import discover as find_submissions

        from grader.batch.summary import rebuild

    assignment = load_assignment()
    work = out.parent / f"{out.name}-work"
    work.mkdir(parents=True, exist_ok=True)
    _, entries = find_submissions(folder, work)
    store, key = StudentStore(out), grader_key(assignment)
    seconds: list[float] = []

    def save(entry, result, took):
        store.save(entry.id, result, content_hash(entry.path), key)
        seconds.append(took)

    start = time.perf_counter()
    with PeakSampler() as sampler:
        grade_entries(entries, assignment, jobs, save, limits=limits())
        rebuild(out, assignment)
    wall = time.perf_counter() - start
    return {"count": len(entries), "wall": wall, "median": statistics.median(seconds), "peak_tree": sampler.peak,
            "peak_process": sampler.largest}


def naive(tree: Path, folder: Path, sample: int) -> float:
    """Seconds per submission with one `micrograde check` process each, one after another."""
    entries = sorted(folder.iterdir())
    chosen = entries[::max(1, len(entries) // sample)][:sample]
    start = time.perf_counter()
    for path in chosen:
        subprocess.run([sys.executable, "-m", "grader", "check", str(path), "--format", "json", *LIMIT_ARGS],
                       cwd=tree, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) / len(chosen)


class Phases:
    """Seconds spent in each step of the pipeline, by wrapping the functions `grader.pipeline` calls (the
    grader itself is not changed); a step a commit does not have is left out."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, module, name: str, label) -> None:
        original = getattr(module, name, None)
        if original is None:
            return

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                step = label(*args, **kwargs) if callable(label) else label
                self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - start

        setattr(module, name, timed)


def phases(folder: Path, sample: int) -> dict[str, float]:
    """Milliseconds per submission in each step, over `sample` submissions graded as one chunk in this
    process the way a worker grades it."""
    from grader import pipeline
    from grader.assignment import load_assignment
    from grader.batch.runner import grade_chunk
    from grader.report import render

    # The spinning ones are left out here: each costs the time limit, which says nothing of the pipeline.
    entries = sorted(p for p in folder.iterdir() if "_timeout" not in p.name)
    chosen = [(p.stem, str(p)) for p in entries[::max(1, len(entries) // sample)][:sample]]
    assignment = load_assignment()
    grade_chunk(chosen[:1], assignment, limits())  # a warm worker: its sandbox server is started
    found: dict[str, float] = {}
    cache_clear = getattr(getattr(pipeline, "reference_results", None), "cache_clear", None)
    if cache_clear:  # a commit that computes the reference's answers once per process
        try:
            cache_clear()
            start = time.perf_counter()
            pipeline.reference_results()
            found["reference's answers (once per process)"] = (time.perf_counter() - start) * 1000
        except TypeError:  # they depend on each submission's inputs: the per-submission figure says it
            pass
    timer = Phases()
    timer.wrap(pipeline, "load_submission", "load")
    # run_child is called once per stage, the engine's then the training loop's, for each submission loaded.
    calls = [0]

    def stage(*_args, **_kwargs) -> str:
        calls[0] += 1
        return "probing: engine stage" if calls[0] % 2 else "probing: training stage"

    timer.wrap(pipeline, "run_child", stage)
    timer.wrap(pipeline, "reference_results", "reference's answers (per submission)")
    # A commit that answers for the reference while the child probes: counted in the engine stage too.
    timer.wrap(pipeline, "complete", "reference's answers (per submission, while the engine stage runs)")
    timer.wrap(pipeline, "run_checks", "judging: the checks")
    timer.wrap(pipeline, "score", "scoring")
    start = time.perf_counter()
    results = grade_chunk(chosen, assignment, limits())
    chunk_wall = time.perf_counter() - start
    start = time.perf_counter()
    for _, result, _ in results:
        render(result, "json")
        render(result, "markdown")
    timer.seconds["reporting (json and markdown)"] = time.perf_counter() - start
    overhead = pytest_overhead()
    if overhead is not None and "judging: the checks" in timer.seconds:
        timer.seconds["judging: the checks"] -= overhead
        found["judging: pytest's own start-up (once per chunk)"] = overhead * 1000
    n = len(chosen)
    found.update({step: seconds * 1000 / n for step, seconds in timer.seconds.items()})
    found["whole chunk, per submission"] = chunk_wall * 1000 / n
    return found


def pytest_overhead() -> float | None:
    """One judging session with no submissions: pytest's start-up and collection, which a chunk pays once."""
    try:
        from grader.judge.session import run_checks

        run_checks({})
        start = time.perf_counter()
        run_checks({})
        return time.perf_counter() - start
    except Exception:  # noqa: BLE001  a commit whose session refuses an empty run: the figure is left out
        return None


def warm_regrade(tree: Path, parts: list[str] | None, runs: int = 5) -> float | None:
    """Seconds of the fastest re-grade of the reference in a process that graded it before, as `--watch`
    and the notebook's `check()` re-grade on every save; None where a commit cannot grade one part."""
    from grader.pipeline import grade_one
    from grader.report import render

    try:
        grade_one(tree / "reference", parts=parts)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            render(grade_one(tree / "reference", parts=parts), "text")
            times.append(time.perf_counter() - start)
    except TypeError:
        return None
    return min(times)


def measure(tree: Path, folder: Path, small: Path, jobs: int, naive_sample: int, phase_sample: int) -> dict:
    """Every figure for the grader importable from `tree` (this process's import path starts there)."""
    figures: dict = {"warm": warm_regrade(tree, None), "warm_part": warm_regrade(tree, [PART])}
    with tempfile.TemporaryDirectory(prefix="micrograde-bench-out-") as tmp:
        figures["small"] = batch(small, Path(tmp) / "small", jobs)
        figures["full"] = batch(folder, Path(tmp) / "full", jobs)
    figures["naive"] = naive(tree, folder, naive_sample)
    try:
        figures["phases"] = phases(folder, phase_sample)
    except Exception as exc:  # noqa: BLE001  an older commit without these functions: say so, keep the rest
        figures["phases"] = {}
        figures["phases_error"] = f"{type(exc).__name__}: {exc}"[:200]
    return figures


# ------------------------------------------------------------------------------- another commit

def resolve(rev: str) -> str:
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise BenchError(f"--against {rev!r} is not a commit of this repository")
    return done.stdout.strip()


def dependencies(pyproject: Path) -> list[str]:
    try:
        with pyproject.open("rb") as f:
            return sorted(tomllib.load(f).get("project", {}).get("dependencies", []))
    except (OSError, tomllib.TOMLDecodeError):
        return []


def needs_own_environment(tree: Path) -> bool:
    """Whether `tree` pins other packages than this checkout, so that running it on this environment's
    packages would measure something else than that commit."""
    return dependencies(tree / "pyproject.toml") != dependencies(ROOT / "pyproject.toml")


class Worktree:
    """REV checked out in a temporary git worktree, removed on exit, with the Python that can run it."""

    def __init__(self, rev: str) -> None:
        self.commit = resolve(rev)
        self.rev = rev
        self.python = sys.executable

    def __enter__(self) -> Self:
        self.parent = Path(tempfile.mkdtemp(prefix="micrograde-bench-rev-"))
        self.path = self.parent / "tree"
        done = subprocess.run(["git", "worktree", "add", "--detach", str(self.path), self.commit], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(self.parent, ignore_errors=True)
            raise BenchError(f"cannot check out {self.rev}: {done.stderr.strip().splitlines()[-1:]}")
        if needs_own_environment(self.path):
            self.python = self._own_environment()
        return self

    def _own_environment(self) -> str:
        """REV pins other packages: it gets a virtual environment of its own, from the same package index."""
        venv = self.path / ".venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(self.path)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BenchError(f"cannot install {self.rev} in its own environment: "
                             f"{(done.stderr.strip().splitlines() or [''])[-1][:200]}")
        return str(venv / "bin" / "python")

    def __exit__(self, *_) -> None:
        subprocess.run(["git", "worktree", "remove", "--force", str(self.path)], cwd=ROOT, capture_output=True,
                       check=False)
        shutil.rmtree(self.parent, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True, check=False)


def run_measurement(python: str, tree: Path, folder: Path, small: Path, args: argparse.Namespace) -> dict:
    """Measure `tree` in a process of its own, with `tree` first on the import path."""
    with tempfile.NamedTemporaryFile(prefix="micrograde-bench-", suffix=".json", delete=False) as f:
        result = Path(f.name)
    try:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [python, str(SCRIPT), "--measure", str(tree), "--class-dir", str(folder), "--small-dir",
                   str(small), "--jobs", str(args.jobs), "--naive-sample", str(args.naive_sample),
                   "--phase-sample", str(args.phase_sample), "--result", str(result)]
        done = subprocess.run(command, cwd=tree, env=env, check=False)
        if done.returncode != 0:
            raise BenchError(f"measuring {tree} failed (exit {done.returncode})")
        return json.loads(result.read_text(encoding="utf-8"))
    finally:
        result.unlink(missing_ok=True)


# -------------------------------------------------------------------------------------- printing

def seconds_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def ratio_text(mine: float | None, theirs: float | None) -> str:
    if not mine or not theirs:
        return ""
    return f"{mine / theirs:.2f}x"


def rows(figures: dict) -> list[tuple[str, float | None, str]]:
    """(label, value, unit) for every figure, in printing order."""
    full, small = figures["full"], figures["small"]
    n = full["count"]
    out = [
        ("micrograde check reference, fastest run (target < 0.3 s)", figures.get("check"), "s"),
        (f"micrograde check reference --part {PART} (target < 0.2 s)", figures.get("check_part"), "s"),
        ("re-grade in a warm process (--watch, notebook check())", figures.get("warm"), "s"),
        (f"  the same, --part {PART}", figures.get("warm_part"), "s"),
        (f"batch, {n} submissions (target: 1,000 in < 30 s)", full["wall"], "s"),
        ("  submissions per second", n / full["wall"], "/s"),
        ("  median per submission in its worker", full["median"] * 1000, "ms"),
        ("  naive loop, per submission (one process each)", figures["naive"] * 1000, "ms"),
        (f"  naive loop extrapolated to {n}", figures["naive"] * n, "s"),
        ("  speed-up over the naive loop (target >= 20x)", figures["naive"] * n / full["wall"], "x"),
        (f"  peak memory, largest process, {small['count']} submissions", small["peak_process"] / 1e6, "MB"),
        (f"  peak memory, largest process, {n} submissions (target: flat)", full["peak_process"] / 1e6, "MB"),
        (f"  peak memory, whole tree, {n} submissions", full["peak_tree"] / 1e6, "MB"),
    ]
    for step, ms in figures.get("phases", {}).items():
        out.append((f"  {step}" if "once" in step else f"  per submission: {step}", ms, "ms"))
    return out


def value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return {"s": f"{value:.2f} s", "ms": f"{value:.1f} ms", "MB": f"{value:.0f} MB", "x": f"{value:.1f}x",
            "/s": f"{value:.1f}"}[unit]


def side_by_side(mine: dict, theirs: dict | None, label_mine: str, label_theirs: str) -> str:
    """One line per figure: this checkout's value, the other commit's, and their ratio (this / other)."""
    lines = []
    theirs_rows = {label: value for label, value, _ in rows(theirs)} if theirs else {}
    header = f"{'figure':<66} {label_mine:>12}"
    if theirs:
        header += f" {label_theirs:>12} {'ratio':>8}"
    lines.append(header)
    for label, value, unit in rows(mine):
        line = f"{label:<66} {value_text(value, unit):>12}"
        if theirs:
            other = theirs_rows.get(label)
            line += f" {value_text(other, unit):>12} {ratio_text(value, other):>8}"
        lines.append(line)
    for who, figures in (("this checkout", mine), (label_theirs, theirs)):
        if figures and figures.get("phases_error"):
            lines.append(f"(no per-step figures for {who}: {figures['phases_error']})")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------- main

def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="submissions to generate (default 200)")
    parser.add_argument("--quick", action="store_true", help="a small class (40) and samples, for a first look")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--naive-sample", type=int, default=10, help="submissions the naive loop runs (default 10)")
    parser.add_argument("--phase-sample", type=int, default=20, help="submissions timed step by step (default 20)")
    parser.add_argument("--check-runs", type=int, default=5, help="runs of each `check` figure; the fastest "
                                                                   "counts (default 5)")
    parser.add_argument("--against", metavar="REV", help="also measure this commit, side by side")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--class-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--small-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.naive_sample, args.phase_sample, args.check_runs = 40, 4, 8, 3
    if args.count < 4 or min(args.jobs, args.naive_sample, args.phase_sample, args.check_runs) < 1:
        parser.error("--count must be at least 4, and --jobs and the samples positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.measure:  # the inner process: one commit's figures, as JSON
        sys.path.insert(0, str(args.measure))
        figures = measure(args.measure, args.class_dir, args.small_dir, args.jobs, args.naive_sample,
                          args.phase_sample)
        args.result.write_text(json.dumps(figures), encoding="utf-8")
        return 0
    try:
        other = Worktree(args.against) if args.against else None
        with tempfile.TemporaryDirectory(prefix="micrograde-bench-") as tmp:
            folder, small = Path(tmp) / "class", Path(tmp) / "small"
            made = generate(folder, args.count)
            generate(small, max(4, args.count // 4), seed=1)
            print(f"class of {args.count}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(made.items())),
                  flush=True)
            theirs = None
            if other is not None:
                with other:
                    checks = check_figures([(sys.executable, ROOT), (other.python, other.path)], args.check_runs)
                    theirs = {**run_measurement(other.python, other.path, folder, small, args), **checks[1]}
            else:
                checks = check_figures([(sys.executable, ROOT)], args.check_runs)
            mine = {**run_measurement(sys.executable, ROOT, folder, small, args), **checks[0]}
    except BenchError as exc:
        print(f"benchmarks/run.py: {exc}", file=sys.stderr)
        return 2
    print(side_by_side(mine, theirs, "this", (args.against or "")[:12]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
