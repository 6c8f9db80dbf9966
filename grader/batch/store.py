"""The output folder: each student's files, written atomically, and the state that makes reruns skip work.

    OUTDIR/students/<id>/report.json   exactly `render(result, "json")`
    OUTDIR/students/<id>/report.md     what the student reads
    OUTDIR/students/<id>/output.txt    what the submission printed, cleaned and bounded; only if it printed
    OUTDIR/students/<id>/state.json    {"content": hash of the submission, "grader": grader key}
    OUTDIR/students/<id>/submission.json  what the export says: name, email, submission time (see submissions.py)

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
from grader.batch.submissions import NOT_SUBMITTED
from grader.contract import PACKAGE
from grader.report import render
from grader.report.sanitize import clean
from grader.score import GradeResult

OUTPUT_FILE = "output.txt"
INFO_FILE = "submission.json"
# Enough to see what a student's code printed or the traceback it died with; floods are cut.
OUTPUT_LIMIT = 4000

_SKIPPED_FOLDERS = {".git", "__pycache__", "__MACOSX"}
# The modules of the grader package whose code decides what a report says.
GRADING_MODULES = ("load", "probes", "sandbox", "judge", "checks", "report", "data", "score.py", "pipeline.py",
                   "reference.py", "assignment.py", "contract.py", "findings.py", "parts.py", "protocol.py",
                   "secret.py", "__init__.py")
# The files of the grader and the reference that decide a grade.
_GRADING_SUFFIXES = (".py", ".ini", ".json", ".toml")


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
    """sha256 over every file's relative path and bytes, in sorted order; links hash their target text. The
    platform's files beside a clone's code (Classroom 50's result.json) are not the student's and are left out."""
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(b"F\0" + path.name.encode() + b"\0")
        _hash_file(digest, path)
        return digest.hexdigest()
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_FOLDERS)
        for name in sorted(files):
            if folder == str(path) and name in NOT_SUBMITTED:
                continue
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
    """Changes when anything that decides a grade changes: the grader's version, the assignment file, the
    grader's own source (probe plan, runners, sandbox, checks, judge, scoring, reports) and the reference's
    answers (the reference solution, or in the student edition the reference data it ships). Then every
    report is stale and is graded again."""
    digest = hashlib.sha256()
    toml = assignment.directory / "assignment.toml"
    digest.update(b"assignment\0" + (toml.read_bytes() if toml.is_file() else assignment.id.encode()) + b"\0")
    for label, root in _grading_sources():
        for file in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix in _GRADING_SUFFIXES:
                relative = file.relative_to(root).as_posix() if root.is_dir() else file.name
                digest.update(f"{label}/{relative}\0".encode())
                _hash_file(digest, file)
    return f"{__version__}+{digest.hexdigest()[:16]}"


def _grading_sources() -> list[tuple[str, Path]]:
    """What a grade depends on besides the submission: the parts of the grader package that load, probe,
    judge, score and write the reports (its data folder included, where the student edition keeps the
    reference's answers) and, in the instructor's checkout, the reference. The batch runner, the commands and
    the authoring tools are left out: changing them changes no report."""
    from grader.paths import REFERENCE_DIR

    package = Path(__file__).resolve().parent.parent
    sources = [(f"grader/{name}", package / name) for name in GRADING_MODULES]
    if (REFERENCE_DIR / PACKAGE).is_dir():
        sources.append(("reference", REFERENCE_DIR / PACKAGE))
    return sources


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

    def save_info(self, student: str, info: dict) -> None:
        """What the export says about the submission (name, email, time); rewritten only when it changes, so
        a rerun over the same export leaves the folder as it was."""
        file = self.folder(student) / INFO_FILE
        text = json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        if info and (not file.is_file() or file.read_text(encoding="utf-8") != text):
            write_atomic(file, text)

    def info(self, student: str) -> dict:
        """The saved submission.json, or {} (a folder merged from an older run has none)."""
        try:
            data = json.loads((self.folder(student) / INFO_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} \
            if isinstance(data, dict) else {}

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
