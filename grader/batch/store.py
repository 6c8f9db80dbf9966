"""The output folder: each student's files, written atomically, and the state that makes reruns skip work.

    OUTDIR/students/<id>/report.json   exactly `render(result, "json")`
    OUTDIR/students/<id>/report.md     what the student reads
    OUTDIR/students/<id>/output.txt    what the submission printed, cleaned and bounded; only if it printed
    OUTDIR/students/<id>/state.json    {"content": hash of the submission, "grader": grader key}

The printed output goes to its own file because the reports are handed back to students, and a
submission's output is not the grader's to echo to them (it may quote tests, or carry terminal escapes).

state.json is removed first and written last, so a run stopped halfway leaves a student without state, who
is graded again.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from grader import __version__
from grader.assignment import Assignment
from grader.report import render
from grader.report.sanitize import clean
from grader.score import GradeResult

OUTPUT_FILE = "output.txt"
# Enough to see what a student's code printed or the traceback it died with; floods are cut.
OUTPUT_LIMIT = 4000

_SKIPPED_FOLDERS = {".git", "__pycache__", "__MACOSX"}


def write_atomic(path: Path, data: str | bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def content_hash(path: Path) -> str:
    """sha256 over every file's relative path and bytes, in sorted order; links hash their target text."""
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(b"F\0" + path.name.encode() + b"\0")
        _hash_file(digest, path)
        return digest.hexdigest()
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_FOLDERS)
        for name in sorted(files):
            file = Path(folder) / name
            rel = file.relative_to(path).as_posix()
            if file.is_symlink():
                digest.update(b"L\0" + rel.encode() + b"\0" + os.readlink(file).encode() + b"\0")
            else:
                digest.update(b"F\0" + rel.encode() + b"\0")
                _hash_file(digest, file)
    return digest.hexdigest()


def _hash_file(digest, file: Path) -> None:
    try:
        with file.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        digest.update(f"unreadable:{exc.errno}".encode())
    digest.update(b"\0")


def output_excerpt(output: str) -> str:
    """What instructors see of a submission's output: no control sequences, at most OUTPUT_LIMIT characters
    (then "…"), ending with a newline; empty when only whitespace was printed."""
    text = clean(output, OUTPUT_LIMIT)
    return text.rstrip() + "\n" if text.strip() else ""


def grader_key(assignment: Assignment) -> str:
    """Changes when the grader's version or the assignment file changes: then every report is stale."""
    toml = assignment.directory / "assignment.toml"
    data = toml.read_bytes() if toml.is_file() else assignment.id.encode()
    return f"{__version__}+{hashlib.sha256(data).hexdigest()[:16]}"


class StudentStore:
    """Per-student folders under OUTDIR/students."""

    def __init__(self, out: Path):
        self.root = Path(out) / "students"

    def folder(self, student: str) -> Path:
        return self.root / student

    def is_current(self, student: str, content: str, grader: str) -> bool:
        state = self.folder(student) / "state.json"
        report = self.folder(student) / "report.json"
        try:
            saved = json.loads(state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return report.is_file() and saved == {"content": content, "grader": grader}

    def save(self, student: str, result: GradeResult, content: str, grader: str) -> None:
        folder = self.folder(student)
        # Until the new state is written, the folder may hold a mix of old and new files: without a state,
        # a run stopped in between grades this student again instead of trusting the mix.
        (folder / "state.json").unlink(missing_ok=True)
        for stale in folder.glob(".*.tmp"):  # left by a run killed in the middle of a write
            stale.unlink(missing_ok=True)
        write_atomic(folder / "report.json", render(result, "json"))
        write_atomic(folder / "report.md", render(result, "markdown"))
        excerpt = output_excerpt(result.output + "".join(f"[micrograde] {line}\n" for line in result.load_problems))
        if excerpt:
            write_atomic(folder / OUTPUT_FILE, excerpt)
        else:
            # A regrade that prints nothing must not leave the previous run's output beside the new report.
            (folder / OUTPUT_FILE).unlink(missing_ok=True)
        write_atomic(folder / "state.json", json.dumps({"content": content, "grader": grader}, indent=2) + "\n")

    def reports(self) -> Iterator[tuple[str, dict]]:
        """Every saved report.json with its student id, in id order, one at a time; unreadable ones are
        left out."""
        if not self.root.is_dir():
            return
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            try:
                yield folder.name, json.loads((folder / "report.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
