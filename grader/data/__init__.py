"""Data a built distribution ships in place of the checkout's folders.

The instructor's checkout reads the reference from reference/ and the assignments from assignments/. A
wheel has no checkout around it, so its build copies what it needs here (see `grader.paths`):
- the instructor's wheel: the reference (`reference/micrograd/`) and the assignments (`assignments/<id>/`);
- the student edition (`make dist-student`), which must not hold the reference: the reference's answers to
  the probe plan (`reference_results.json`) and the assignment's TOML without its hidden checks.
"""
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
REFERENCE_RESULTS_FILE = DATA_DIR / "reference_results.json"
ASSIGNMENTS_DATA_DIR = DATA_DIR / "assignments"
REFERENCE_DATA_DIR = DATA_DIR / "reference"
