"""Where the project's own files live, found from this package so any working directory works."""
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO_DIR / "reference"
ASSIGNMENTS_DIR = REPO_DIR / "assignments"
