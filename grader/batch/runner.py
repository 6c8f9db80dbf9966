"""Grade many submissions on all cores: each worker process probes a chunk of submissions (each in its own
sandboxed child, inside `probe_submission`) and judges the chunk in one pytest session, so pytest's
start-up is paid once per chunk. Results come back to the parent as each chunk finishes.

A submission never stops the others: anything raised while probing or judging it becomes an error
result with the reason. If a worker process dies, the submissions it was grading are retried one at a
time, and a submission that still kills a worker of its own gets an error result.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.discover import Entry
from grader.pipeline import Probed, judge, probe_submission
from grader.sandbox.process import Limits
from grader.score import GradeResult, score

CHUNK = 50
# A worker is replaced after this many chunks, so memory stays flat however many submissions there are.
TASKS_PER_WORKER = 4

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
                limits: Limits | None = None) -> list[tuple[str, GradeResult, float]]:
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
    result = score(entry.id, [], assignment, error=f"the grader's worker process died while grading this "
                                                   f"submission ({reason})")
    result.submission = entry.path.name
    return result


@dataclass
class Task:
    """Submissions one worker grades together. `alone`: run with no other task in flight, so that if its
    worker dies, the blame is certain."""
    entries: list[Entry]
    alone: bool = False


def _ignore_interrupts() -> None:
    """In each worker: Ctrl-C is the parent's to handle (it stops the workers), and SIGTERM exits
    cleanly, so the worker's sandbox server is stopped too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def _pool(jobs: int) -> ProcessPoolExecutor:
    # spawn: workers start clean (no copied threads or locks), and can be recycled after TASKS_PER_WORKER.
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               max_tasks_per_child=TASKS_PER_WORKER, initializer=_ignore_interrupts)


def grade_entries(entries: list[Entry], assignment: Assignment, jobs: int, on_result: OnResult,
                  chunk_size: int = CHUNK, limits: Limits | None = None) -> None:
    """Grade every entry and call `on_result(entry, result, seconds)` in this process as each is known.

    At most `jobs` tasks are in flight, so a worker that dies takes down only those. Their submissions are
    then graded one by one, each alone in the pool; one that still kills its worker gets an error result.
    """
    task = partial(grade_chunk, assignment=assignment, limits=limits)
    queue = deque(Task(chunk) for chunk in chunks(entries, jobs, chunk_size))
    while queue:
        lost, reason = _run_pool(queue, task, jobs, on_result)
        if len(lost) == 1 and lost[0].alone:
            for entry in lost[0].entries:
                on_result(entry, crashed(entry, assignment, reason), 0.0)
        else:
            queue.extendleft(Task([entry], alone=True) for lost_task in reversed(lost)
                             for entry in reversed(lost_task.entries))


def _run_pool(queue: deque[Task], task: Callable, jobs: int, on_result: OnResult) -> tuple[list[Task], str]:
    """Run tasks from `queue` in a fresh pool until it is empty (returns no lost tasks) or a worker dies
    (returns the tasks that were in flight, and why)."""
    pool = _pool(jobs)
    in_flight: dict[Future, Task] = {}
    stopping = False
    try:
        while queue or in_flight:
            while queue and _may_start(queue[0], list(in_flight.values()), jobs):
                next_task = queue.popleft()
                try:
                    in_flight[pool.submit(task, [(e.id, str(e.path)) for e in next_task.entries])] = next_task
                except BrokenProcessPool as exc:
                    queue.appendleft(next_task)
                    return list(in_flight.values()), _why(exc)
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: in_flight[f].entries[0].id):
                try:
                    results = future.result()
                except Exception as exc:  # noqa: BLE001  the worker died: its tasks are retried by the caller
                    return list(in_flight.values()), _why(exc)
                finished = in_flight.pop(future)
                by_id = {e.id: e for e in finished.entries}
                for student, result, seconds in results:
                    on_result(by_id[student], result, seconds)
        return [], ""
    except KeyboardInterrupt:
        stopping = True
        for worker in list(getattr(pool, "_processes", {}).values()):
            worker.terminate()
        raise
    finally:
        pool.shutdown(wait=not stopping, cancel_futures=True)


def _may_start(task: Task, in_flight: list[Task], jobs: int) -> bool:
    """A task starts when a worker is free; a task that must run alone only when none is in flight, and
    nothing starts beside it."""
    if not in_flight:
        return True
    return len(in_flight) < jobs and not task.alone and not any(t.alone for t in in_flight)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
