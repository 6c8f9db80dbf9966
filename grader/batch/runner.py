"""Grade many submissions on all cores: each worker process probes a chunk of submissions (each in its own
sandboxed child, inside `probe_submission`) and judges the chunk in one pytest session, so pytest's
start-up is paid once per chunk. Results come back to the parent as each chunk finishes.

A batch always finishes. A submission never stops the others: anything raised while probing or judging
it becomes an error result with the reason. Every chunk has a wall-clock bound; a worker that dies or
overruns it is stopped and replaced, the chunk's submissions are retried one per task, and a submission
that still kills or stalls a worker of its own gets an error result. Workers keep their temporary files
in one folder of the run, removed at the end.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.executors import LocalExecutor, Lost, Stopped
from grader.batch.submissions import Entry
from grader.pipeline import Probed, judge, probe_submission
from grader.sandbox.process import JobLimits
from grader.score import GradeResult, score

CHUNK = 50
# The wall-clock bound of a chunk: pytest's start-up, then for each submission its two sandboxed children
# (engine and train, bounded by the limits' total_seconds inside the sandbox) and its share of loading and
# judging.
CHUNK_BASE_SECONDS = 120.0
SUBMISSION_EXTRA_SECONDS = 30.0
# How often a chunk whose worker was stopped from outside is sent again before it counts as lost.
RESTARTS_PER_CHUNK = 3

OnResult = Callable[[Entry, GradeResult, float], None]


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def chunks(entries: list[Entry], jobs: int, size: int = CHUNK) -> list[list[Entry]]:
    """Chunks of at most `size`, small enough that every worker gets one when there are few submissions."""
    if not entries:
        return []
    size = max(1, min(size, -(-len(entries) // max(1, jobs))))
    return [entries[i:i + size] for i in range(0, len(entries), size)]


def grade_chunk(chunk: list[tuple[str, str]], assignment: Assignment,
                limits: JobLimits | None = None) -> list[tuple[str, GradeResult, float]]:
    """Probe each (id, path) and judge them together; never raises for anything a submission does."""
    probed, seconds = [], {}
    for student, path in chunk:
        start = time.perf_counter()
        try:
            probed.append(probe_submission(Path(path), name=student, limits=limits))
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
    result = score(entry.id, [], assignment, error=reason)
    result.submission = entry.path.name
    return result


def chunk_seconds(size: int, limits: JobLimits | None = None) -> float:
    """How long a chunk of `size` submissions may take before its worker is stopped: far more than any
    honest chunk needs, so that only a stuck or runaway worker ever reaches it."""
    per_submission = 2 * (limits or JobLimits()).total_seconds + SUBMISSION_EXTRA_SECONDS
    return CHUNK_BASE_SECONDS + size * per_submission


def grade_entries(entries: list[Entry], assignment: Assignment, jobs: int, on_result: OnResult,
                  chunk_size: int = CHUNK, limits: JobLimits | None = None, executor=None,
                  budget: Callable[[int], float] | None = None) -> None:
    """Grade every entry and call `on_result(entry, result, seconds)` in this process as each is known;
    returns when every entry has a result (graded, or an error saying why not).

    `executor` runs the chunks (default: `jobs` local worker processes; see grader.batch.executors);
    `budget(size)` is a chunk's wall-clock bound (default `chunk_seconds`).
    """
    task = partial(grade_chunk, assignment=assignment, limits=limits)
    budget = budget or partial(chunk_seconds, limits=limits)
    scratch = Path(tempfile.mkdtemp(prefix="micrograde-run-"))
    executor = executor or LocalExecutor(jobs, scratch=str(scratch))
    interrupted = False
    try:
        _run(deque(chunks(entries, executor.capacity, chunk_size)), task, executor, budget,
             assignment, on_result)
    except BaseException:
        interrupted = True
        raise
    finally:
        executor.close(interrupted=interrupted)
        shutil.rmtree(scratch, ignore_errors=True)


def _run(queue: deque[list[Entry]], task: Callable, executor, budget: Callable[[int], float],
         assignment: Assignment, on_result: OnResult) -> None:
    """Keep the executor full until every chunk has its results. A chunk lost to its worker (dead, or
    stopped at its deadline) is split into one task per submission; a lost single submission is graded
    as an error with the reason."""
    known: list[tuple[Entry, GradeResult, float]] = []  # results not yet handed to on_result
    try:
        _keep_full(queue, task, executor, budget, assignment, on_result, known)
    finally:
        _hand_on(known, on_result)  # an interrupted run keeps every result it had


def _hand_on(known: list[tuple[Entry, GradeResult, float]], on_result: OnResult) -> None:
    while known:
        on_result(*known.pop(0))


def _keep_full(queue: deque[list[Entry]], task: Callable, executor, budget: Callable[[int], float],
               assignment: Assignment, on_result: OnResult, known: list) -> None:
    """`_run`'s loop: every worker is handed its next chunk before the results just received are saved."""
    running: dict = {}  # handle -> (entries, deadline, bound)
    restarts: dict[tuple[str, ...], int] = {}
    while queue or running or known:
        while queue and len(running) < executor.capacity:
            chunk = queue.popleft()
            bound = budget(len(chunk))
            handle = executor.submit(task, [(e.id, str(e.path)) for e in chunk])
            running[handle] = (chunk, time.monotonic() + bound, bound)
        # Handed on once the workers have their next chunks: saving them is this process's work meanwhile.
        _hand_on(known, on_result)
        if not running:
            continue
        soonest = min(deadline for _, deadline, _ in running.values())
        done = executor.wait(list(running), timeout=max(0.0, soonest - time.monotonic()))
        for handle in sorted(done, key=lambda h: running[h][0][0].id):
            chunk, _, _ = running.pop(handle)
            try:
                results = executor.outcome(handle)
            except Stopped as stopped:
                ids = tuple(e.id for e in chunk)
                restarts[ids] = restarts.get(ids, 0) + 1
                if restarts[ids] <= RESTARTS_PER_CHUNK:
                    queue.appendleft(chunk)
                    continue
                _retry_or_fail(chunk, queue, assignment, on_result,
                               f"the grader's worker process was stopped while grading this submission ({stopped})")
                continue
            except Lost as lost:
                _retry_or_fail(chunk, queue, assignment, on_result,
                               f"the grader's worker process died while grading this submission ({lost})")
                continue
            by_id = {e.id: e for e in chunk}
            known.extend((by_id[student], result, seconds) for student, result, seconds in results)
        now = time.monotonic()
        for handle in [h for h, (_, deadline, _) in running.items() if deadline <= now and h not in done]:
            chunk, _, bound = running.pop(handle)
            executor.abandon(handle)
            _retry_or_fail(chunk, queue, assignment, on_result,
                           f"grading this submission took longer than {bound:.0f} s; its worker was stopped")


def _retry_or_fail(chunk: list[Entry], queue: deque[list[Entry]], assignment: Assignment,
                   on_result: OnResult, reason: str) -> None:
    if len(chunk) > 1:
        queue.extendleft([entry] for entry in reversed(chunk))
    else:
        on_result(chunk[0], crashed(chunk[0], assignment, reason), 0.0)
