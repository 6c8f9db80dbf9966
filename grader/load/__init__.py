"""Load a hand-in: turn what the student gave into a staged folder the sandboxed child can import.

Nothing the student wrote is run here. A package is copied as it is; a single .py file or a notebook is
reduced to its definitions with `ast`. `Submission.locate` maps a staged file and line back to the
student's own file and line (or notebook cell and line) for `file:line` feedback.

    submission = load_submission(Path("alice.zip"), workdir)
    submission.staged, submission.staged_as, submission.notes
"""
from __future__ import annotations

from pathlib import Path

from grader.load.archive import unpack_zip
from grader.load.folder import stage_folder
from grader.load.notebook import stage_notebook
from grader.load.single_file import stage_python_file
from grader.load.submission import DEFAULT_LIMITS, Limits, StagedFile, Submission, SubmissionError

__all__ = ["DEFAULT_LIMITS", "Limits", "StagedFile", "Submission", "SubmissionError", "load_submission"]


def load_submission(path: Path, workdir: Path, limits: Limits = DEFAULT_LIMITS) -> Submission:
    """Stage the folder, .zip, .py file or .ipynb notebook at `path` under `workdir/staged`.

    `workdir` is an empty folder owned by the caller; the loader writes nothing outside it. The same
    input always gives byte-identical staged files. Unreadable input raises SubmissionError.
    """
    path, workdir = Path(path), Path(workdir)
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    staged = workdir / "staged"
    staged.mkdir(parents=True)
    if path.is_dir():
        root = path.resolve()
        return stage_folder(root, path, staged, limits, [], path.name or root.name, root_name=root.name)
    if not path.is_file():
        raise SubmissionError(f"{path} is neither a folder nor a regular file")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        notes: list[str] = []
        unpacked = workdir / "unpacked"
        unpacked.mkdir()
        unpack_zip(path, unpacked, limits, notes)
        if not any(unpacked.iterdir()):
            raise SubmissionError(f"{path.name} holds no .py files or .ipynb notebooks")
        return stage_folder(unpacked, path, staged, limits, notes, path.name)
    if suffix == ".py":
        return stage_python_file(path, path.name, path, staged, limits)
    if suffix == ".ipynb":
        return stage_notebook(path, path.name, path, staged, limits)
    raise SubmissionError(f"{path.name} is not something the grader reads: hand in a folder, a .zip, "
                          "a .py file or an .ipynb notebook")
