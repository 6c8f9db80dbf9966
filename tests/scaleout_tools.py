"""Stand-ins for `grader.batch.runner.grade_chunk` that spawned workers can import by name: each grades
every submission plainly except the one named HANG (its worker leaves a file in its temporary folder and
then never returns) and the one named DIE (its worker leaves a file and dies on the spot)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from grader.assignment import Assignment
from grader.score import GradeResult, score

HANG = "hangs"
DIE = "dies"


def leave_a_file(student: str) -> None:
    (Path(tempfile.gettempdir()) / f"micrograde-left-by-{student}-{os.getpid()}").write_text("x")


def grade_chunk_with_a_stuck_and_a_dying_worker(chunk: list[tuple[str, str]], assignment: Assignment,
                                                **_options) -> list[tuple[str, GradeResult, float]]:
    results = []
    for student, _path in chunk:
        if student == HANG:
            leave_a_file(student)
            while True:  # stuck for good: only being stopped from outside ends it
                time.sleep(3600)
        if student == DIE:
            leave_a_file(student)
            os._exit(70)
        result = score(student, [], assignment)
        result.notes = [f"graded in process {os.getpid()}"]
        results.append((student, result, 0.0))
    return results


STOPPED_ONCE = "stopped-once"


def grade_chunk_stopped_once(chunk: list[tuple[str, str]], assignment: Assignment,
                             **_options) -> list[tuple[str, GradeResult, float]]:
    """Plain results, except that the first worker to reach STOPPED_ONCE is stopped the way SIGTERM stops
    it (its handler raises SystemExit in the task); the marker file it leaves makes the next try pass."""
    marker = Path(os.environ["MICROGRADE_TEST_MARKER"])
    results = []
    for student, _path in chunk:
        if student == STOPPED_ONCE and not marker.exists():
            marker.write_text("stopped")
            raise SystemExit(1)
        results.append((student, score(student, [], assignment), 0.0))
    return results
