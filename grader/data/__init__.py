"""Data the student edition of the grader ships instead of the reference solution.

The instructor's checkout computes the reference's answers from reference/ and reads the assignments from
assignments/. The student edition (`make dist-student`) holds neither: its build writes here the reference's
answers to the probe plan (`reference_results.json`) and the assignment's TOML (`assignments/<id>/`).
"""
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
REFERENCE_RESULTS_FILE = DATA_DIR / "reference_results.json"
ASSIGNMENTS_DATA_DIR = DATA_DIR / "assignments"
