"""Grade many submissions on all cores: each worker process probes a chunk of submissions (each in its own
sandboxed child, inside `probe_submission`) and judges the chunk in one pytest session, so pytest's
start-up is paid once per chunk. Results come back to the parent as each chunk finishes.

A submission never stops the others: anything raised while probing or judging it becomes an error
result with the reason. If a worker process dies, its chunk is retried one submission at a time, and a
submission that still kills a lone worker gets an error result.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.discover import Entry
from grader.pipeline import Probed, judge, probe_submission
from grader.score import GradeResult, score

CHUNK = 25
# A worker is replaced after this many chunks, so memory stays flat however many submissions there are.
TASKS_PER_WORKER = 2

OnResult = Callable[[Entry, GradeResult, float], None]


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def chunks(entries: list[Entry], jobs: int, size: int = CHUNK) -> list[list[Entry]]:
    """Chunks of at most `size`, small enough that every worker gets one when there are few submissions."""
    if not entries:
        return []
    size = max(1, min(size, -(-len(entries) // max(1, jobs))))
    return [entries[i:i + size] for i in range(0, len(entries), size)]


def grade_chunk(chunk: list[tuple[str, str]], assignment: Assignment) -> list[tuple[str, GradeResult, float]]:
    """Probe each (id, path) and judge them together; never raises for anything a submission does."""
    probed, seconds = [], {}
    for student, path in chunk:
        start = time.perf_counter()
        try:
            probed.append(probe_submission(Path(path), name=student))
        except Exception as exc:  # noqa: BLE001  a grader bug on one input must not cost the others
            probed.append(Probed(student, None, [], error=grader_failure("probing", exc)))
        seconds[student] = time.perf_counter() - start
    start = time.perf_counter()
    try:
        results = judge(probed, assignment)
    except Exception:  # noqa: BLE001  find the one submission the session failed on
        results = [judge_alone(p, assignment) for p in probed]
    share = (time.perf_counter() - start) / max(1, len(chunk))
    out = []
    for (student, path), result in zip(chunk, results):
        # Named like `micrograde check PATH` names it, so both write the same report for the same hand-in.
        result.submission = Path(path).name
        out.append((student, result, seconds[student] + share))
    return out


def judge_alone(probed: Probed, assignment: Assignment) -> GradeResult:
    try:
        return judge([probed], assignment)[0]
    except Exception as exc:  # noqa: BLE001  it becomes this submission's error
        return score(probed.name, [], assignment, notes=probed.notes, error=grader_failure("judging", exc))


def grader_failure(stage: str, exc: BaseException) -> str:
    return f"the grader failed while {stage} this submission ({type(exc).__name__}: {str(exc)[:200]})"


def crashed(entry: Entry, assignment: Assignment, reason: str) -> GradeResult:
    result = score(entry.id, [], assignment, error=f"the grader's worker process died while grading this "
                                                   f"submission ({reason})")
    result.submission = entry.path.name
    return result


def _pool(jobs: int) -> ProcessPoolExecutor:
    # spawn: workers start clean (no copied threads or locks), and can be recycled after TASKS_PER_WORKER.
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               max_tasks_per_child=TASKS_PER_WORKER)


def grade_entries(entries: list[Entry], assignment: Assignment, jobs: int, on_result: OnResult,
                  chunk_size: int = CHUNK) -> None:
    """Grade every entry and call `on_result(entry, result, seconds)` in this process as each is known."""
    failed = _run_round(chunks(entries, jobs, chunk_size), assignment, jobs, on_result)
    # A dead worker takes its whole chunk down: retry those submissions one per task...
    retry = [[entry] for chunk, _ in failed for entry in chunk]
    failed = _run_round(retry, assignment, jobs, on_result) if retry else []
    # ...and any that fail again get a worker of their own, so the blame is certain.
    for chunk, _ in failed:
        for chunk_, reason in _run_round([chunk], assignment, 1, on_result):
            for entry in chunk_:
                on_result(entry, crashed(entry, assignment, reason), 0.0)


def _run_round(tasks: list[list[Entry]], assignment: Assignment, jobs: int,
               on_result: OnResult) -> list[tuple[list[Entry], str]]:
    """Run every task in a fresh pool; the tasks whose worker died or whose result was lost, with why."""
    failed: list[tuple[list[Entry], str]] = []
    if not tasks:
        return failed
    pool = _pool(min(jobs, len(tasks)))
    futures: dict[Future, list[Entry]] = {}
    interrupted = False
    try:
        for chunk in tasks:
            futures[pool.submit(grade_chunk, [(e.id, str(e.path)) for e in chunk], assignment)] = chunk
        remaining = set(futures)
        while remaining:
            done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: futures[f][0].id):
                chunk = futures[future]
                try:
                    results = future.result()
                except Exception as exc:  # noqa: BLE001  a dead worker: retried below
                    failed.append((chunk, f"{type(exc).__name__}: {exc}"[:200]))
                    continue
                by_id = {e.id: e for e in chunk}
                for student, result, seconds in results:
                    on_result(by_id[student], result, seconds)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    return failed
