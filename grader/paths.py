"""Where the project's own files live, found from this package so any working directory works.

In a checkout (an editable install, or running from the clone) the reference and the assignments are the
checkout's own folders. An installed wheel has no checkout around it: its build copied both into
`grader/data/` (see setup.py and `grader.data`), and they are read from there.
"""
from pathlib import Path

from grader.data import ASSIGNMENTS_DATA_DIR, REFERENCE_DATA_DIR

REPO_DIR = Path(__file__).resolve().parent.parent


def is_checkout(folder: Path = REPO_DIR) -> bool:
    """True where the grader runs from the project's source tree (its pyproject.toml beside the package): a
    clone, or the Gradescope image's editable install, which has no reference/ but its answers as data."""
    project = folder / "pyproject.toml"
    return project.is_file() and 'name = "micrograde"' in project.read_text(encoding="utf-8")


CHECKOUT_DIR = REPO_DIR if is_checkout() else None
REFERENCE_DIR = REPO_DIR / "reference" if CHECKOUT_DIR else REFERENCE_DATA_DIR
ASSIGNMENTS_DIR = REPO_DIR / "assignments" if CHECKOUT_DIR else ASSIGNMENTS_DATA_DIR
