"""What the loader hands on: the staged folder, how to read it, and where each of its lines came from."""
from __future__ import annotations

import ast
import threading
from dataclasses import dataclass, field
from pathlib import Path

# CPython 3.11 counts the compiler's AST recursion for the interpreter, not per thread: two threads parsing
# at once can fail with "AST constructor recursion depth mismatch". The grader parses one source at a time.
_PARSING = threading.Lock()


def parse_python(source: str, filename: str = "<unknown>", flags: int = ast.PyCF_ONLY_AST) -> ast.Module:
    """`source` parsed as a module (`ast.parse`, with `flags`), one parse at a time in this process."""
    with _PARSING:
        return compile(source, filename, "exec", flags, dont_inherit=True)


class SubmissionError(Exception):
    """The hand-in cannot be read. The message is shown to the student as is: one sentence, no traceback."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what the loader reads, so a huge or hostile hand-in fails fast instead of filling the disk
    (the sandbox's limits on what a job may do are `grader.sandbox.process.JobLimits`)."""

    max_files: int = 200  # .py files staged from one package
    max_file_bytes: int = 2_000_000  # one .py file
    max_total_bytes: int = 20_000_000  # all staged .py files together
    max_notebook_bytes: int = 20_000_000  # plots saved in a notebook's outputs make it large
    max_cell_chars: int = 200_000  # one code cell: parsing takes about a hundred times its size in memory
    max_archive_files: int = 2_000  # .py and .ipynb entries unpacked from a zip
    max_archive_bytes: int = 50_000_000  # the zip itself, and everything unpacked from it


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class StagedFile:
    """Where a staged file came from: one original file with the same line numbers, or an origin per line.

    `lines[i]` is the (display, line) of staged line i + 1, or None for a line the loader wrote itself.
    """

    display: str
    lines: tuple[tuple[str, int] | None, ...] | None = None

    def origin_of(self, line: int) -> tuple[str, int] | None:
        """The student's place of staged `line`. A line the loader wrote itself, or one past the end (where a
        statement missing from the end of a cell belongs), is counted on from the last line before it."""
        if self.lines is None:
            return self.display, line
        for k in range(min(line, len(self.lines)), 0, -1):
            origin = self.lines[k - 1]
            if origin is not None:
                return origin[0], origin[1] + (line - k)
        return None


@dataclass
class Submission:
    """A hand-in staged for the sandboxed child, plus the way back to the student's own files and lines.

    `staged_as` is "package" (`staged/micrograd/*.py`, imported as the package `micrograd`) or "module"
    (`staged/submission.py`, made from a single .py file or notebook); the child is told it as `kind`.
    `notes` are remarks for the report that do not stop grading.
    """

    origin: Path
    staged: Path
    staged_as: str
    notes: list[str] = field(default_factory=list)
    sources: dict[str, StagedFile] = field(default_factory=dict, repr=False)
    keys: dict[str, str] = field(default_factory=dict, repr=False, compare=False)  # locate() is called per check

    def locate(self, staged_file: str, line: int) -> tuple[str, int]:
        """Map a staged file (relative to `staged`, or absolute inside it) and line to the student's file and line.

        A notebook answers ("name.ipynb In [7] (cell 3)", line in that cell): Jupyter's execution count
        and the cell's place counting every cell (code and markdown) from the top, starting at 1; `cell 3`
        alone for a cell never run, `In [3]` when the two agree (see grader.load.notebook). A file the loader
        did not stage comes back as its path inside the staged folder.
        """
        key = self._key(staged_file)
        origin = self.sources[key].origin_of(line) if key in self.sources else None
        return origin if origin is not None else (key, line)  # never the sandbox's own path

    def staged_key(self, staged_file: str) -> str:
        """A staged file as its path relative to `staged` (the key of `sources`)."""
        return self._key(staged_file)

    def _key(self, staged_file: str) -> str:
        if staged_file not in self.keys:
            self.keys[staged_file] = self._relative(staged_file)
        return self.keys[staged_file]

    def _relative(self, staged_file: str) -> str:
        path = Path(staged_file)
        if not path.is_absolute():
            return path.as_posix()
        for root in (self.staged, self.staged.resolve()):
            for candidate in (path, path.resolve()):
                if candidate.is_relative_to(root):
                    return candidate.relative_to(root).as_posix()
        return path.as_posix()


def human_size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g} MB"
    if n >= 1_000:
        return f"{n / 1_000:g} kB"
    return f"{n} bytes"


def join_names(names: list[str], limit: int = 6) -> str:
    """'a', 'a and b', 'a, b and c'; long lists end with 'and N more'."""
    if len(names) > limit:
        names = [*names[:limit], f"{len(names) - limit} more"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
