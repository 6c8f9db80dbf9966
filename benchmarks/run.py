"""Speed and memory of batch grading, printed as figures against their targets (no assertions).

    .venv/bin/python benchmarks/run.py [--count N] [--jobs J] [--naive-sample S]

(a) one `micrograde check reference` (target < 1 s); (b) N generated submissions (correct, buggy, not
started, broken) graded by the batch path, beside the naive loop (one `python -m grader check` process
per submission, one after another, on a sample, extrapolated; and the same `-j` at a time), and peak
memory at N/4 and N to show it stays flat.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment
from grader.batch.discover import discover
from grader.batch.runner import grade_entries
from grader.batch.store import StudentStore, content_hash, grader_key
from grader.batch.summary import rebuild

REFERENCE = ROOT / "reference"
TEMPLATE = ROOT / "student_template"
# Small text edits of the reference engine that students really make.
BUGS = {
    "overwrite_mul": ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad"),
    "no_chain_add": ("self.grad += 1.0 * out.grad", "self.grad += 1.0"),
    "wrong_sign_tanh": ("self.grad += (1 - t**2) * out.grad", "self.grad += (t**2 - 1) * out.grad"),
    "relu_always": ("self.grad += (out.data > 0) * out.grad", "self.grad += out.grad"),
    "exp_wrong": ("self.grad += out.data * out.grad", "self.grad += self.data * out.grad"),
}
MIX = ["correct"] * 4 + list(BUGS) + ["not_started"] * 2 + ["syntax_error", "empty"]


def generate(root: Path, count: int) -> None:
    """`count` submissions of the MIX, each one different (a student's own header line), so nothing can be
    reused from another submission's grading."""
    ignore = shutil.ignore_patterns("__pycache__")
    rng = random.Random(0)
    for i in range(count):
        kind = MIX[rng.randrange(len(MIX))]
        folder = root / f"s{i:04d}_{kind}"
        if kind == "empty":
            folder.mkdir()
            continue
        source = TEMPLATE if kind == "not_started" else REFERENCE
        shutil.copytree(source / "micrograd", folder / "micrograd", ignore=ignore)
        engine_path = folder / "micrograd" / "engine.py"
        engine = f"# micrograd, as written by student {i:04d}\n" + engine_path.read_text(encoding="utf-8")
        if kind in BUGS:
            engine = engine.replace(*BUGS[kind], 1)
        elif kind == "syntax_error":
            engine = engine.replace("def exp(self):", "def exp(self)", 1)
        engine_path.write_text(engine, encoding="utf-8")


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


def batch(folder: Path, out: Path, jobs: int) -> dict:
    """Grade like `micrograde grade --force` does, keeping each submission's time."""
    assignment = load_assignment()
    _, entries = discover(folder, out.parent / f"{out.name}-work")
    store, key = StudentStore(out), grader_key(assignment)
    seconds: list[float] = []

    def save(entry, result, took):
        store.save(entry.id, result, content_hash(entry.path), key)
        seconds.append(took)

    start = time.perf_counter()
    with PeakSampler() as sampler:
        grade_entries(entries, assignment, jobs, save)
        rebuild(out, assignment)
    wall = time.perf_counter() - start
    return {"count": len(entries), "wall": wall, "median": statistics.median(seconds), "peak_tree": sampler.peak,
            "peak_process": sampler.largest}


def naive(folder: Path, sample: int, jobs: int) -> float:
    """Seconds per submission with one `python -m grader check` process each, `jobs` at a time."""
    entries = sorted(folder.iterdir())
    step = max(1, len(entries) // sample)
    chosen = entries[::step][:sample]

    def one(path: Path) -> None:
        subprocess.run([sys.executable, "-m", "grader", "check", str(path), "--format", "json"], cwd=ROOT, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, chosen))
    return (time.perf_counter() - start) / len(chosen)


def mb(n: float) -> str:
    return f"{n / 1e6:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="submissions to generate (default 1000)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for both ways (default 2)")
    parser.add_argument("--naive-sample", type=int, default=30, help="submissions the naive way runs (default 30)")
    args = parser.parse_args()

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "check", str(REFERENCE)], cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
    print(f"(a) micrograde check reference: {time.perf_counter() - start:.2f} s (target < 1 s)")

    with tempfile.TemporaryDirectory(prefix="micrograde-bench-") as tmp:
        tmp = Path(tmp)
        quarter = max(1, args.count // 4)
        generate(tmp / "small", quarter)
        generate(tmp / "class", args.count)
        small = batch(tmp / "small", tmp / "out-small", args.jobs)
        full = batch(tmp / "class", tmp / "out", args.jobs)
        per_loop = naive(tmp / "class", args.naive_sample, 1)
        per_naive = naive(tmp / "class", args.naive_sample, args.jobs)

    n = full["count"]
    naive_total = per_naive * n
    print(f"(b) batch, {n} submissions, -j {args.jobs}: {full['wall']:.1f} s "
          f"({n / full['wall']:.1f} submissions/s; target 1,000 in < 60 s)")
    print(f"    median per submission (in its worker): {full['median'] * 1000:.0f} ms")
    print(f"    naive loop (one `micrograde check` process per submission, one after another, {args.naive_sample} "
          f"sampled): {per_loop * 1000:.0f} ms each, {per_loop * n:.1f} s extrapolated to {n}")
    print(f"    speed-up over the naive loop: {per_loop * n / full['wall']:.1f}x (target >= 10x)")
    print(f"    (the naive way run {args.jobs} at a time: {per_naive * 1000:.0f} ms each, {naive_total:.1f} s for {n}; "
          f"speed-up {naive_total / full['wall']:.1f}x)")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(f"    peak memory of the largest single process (sampled): {mb(small['peak_process'])} for "
          f"{small['count']}, {mb(full['peak_process'])} for {n} (target: flat)")
    print(f"    peak memory, whole process tree (sampled; workers peak at different moments): "
          f"{mb(small['peak_tree'])} for {small['count']}, {mb(full['peak_tree'])} for {n}")
    print(f"    peak RSS (getrusage): this process {mb(own)}, largest child {mb(kids)}")


if __name__ == "__main__":
    main()
