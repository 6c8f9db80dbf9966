"""Helpers for tests/test_batch.py: a stand-in for the batch runner's chunk task (it must live in a module
the spawned worker processes can import by name), and a way to find the processes a grading run left.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from grader.assignment import Assignment
from grader.score import GradeResult, score

VICTIM = "victim"


def grade_chunk_killing_its_worker(chunk: list[tuple[str, str]], assignment: Assignment,
                                   **_options) -> list[tuple[str, GradeResult, float]]:
    """Stands in for `grader.batch.runner.grade_chunk`: a plain result for every submission, except that the
    worker process dies on the spot (no exception, no clean-up) when it reaches the one named VICTIM."""
    results = []
    for student, _path in chunk:
        if student == VICTIM:
            os._exit(70)
        result = score(student, [], assignment)
        result.notes = [f"graded in process {os.getpid()}"]
        results.append((student, result, 0.0))
    return results


def processes_naming(text: str) -> list[int]:
    """Live processes other than this one whose command line or environment contains `text`."""
    needle, found = text.encode(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[0] == b"Z":
                continue  # already dead, waiting for its parent to collect it
            if needle in (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def left_running(text: str, grace: float = 60.0) -> list[int]:
    """The processes naming `text` that are still there after up to `grace` seconds. A run that ends may
    leave its sandbox servers a moment to stop their children; none should be there for long."""
    deadline = time.monotonic() + grace
    while (found := processes_naming(text)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def spawned_children() -> set[int]:
    """This process's multiprocessing workers (not its long-lived resource tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and fields[0] != b"Z" and b"spawn_main" in command \
                and b"resource_tracker" not in command:
            found.add(int(entry.name))
    return found
