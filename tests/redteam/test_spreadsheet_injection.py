"""Attack: hand-ins named like spreadsheet formulas (`+1+1.py`, `-2+3.py`, `@A1.py`), whose student id
would land verbatim in the first column of gradebook.csv and of the Canvas import file, where Excel,
LibreOffice or Sheets run it. Defence: every CSV cell starting with = + - @ tab or CR gets a leading quote;
the reports keep the submission's real name."""
from __future__ import annotations

import csv
import json

from grader.batch.summary import FORMULA_STARTS, spreadsheet_safe
from grader.cli import main

NAMES = ["+1+1", "-2+3", "@A1", "=1+2"]


def test_formula_names_are_neutralised_in_every_csv(tmp_path, capsys):
    klass = tmp_path / "class"
    klass.mkdir()
    for name in NAMES:
        (klass / f"{name}.py").write_text("x = 1\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["grade", str(klass), "--out", str(out), "-j", "1"]) == 0
    capsys.readouterr()
    for sheet in ("gradebook.csv", "canvas_gradebook.csv"):
        with (out / sheet).open(newline="", encoding="utf-8") as f:
            cells = [cell for row in csv.reader(f) for cell in row]
        assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)], sheet
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        students = [row["student"] for row in csv.DictReader(f)]
    # "=" is not kept in a student id (it is dropped); the others are, and are shown quoted.
    assert sorted(students) == sorted(["'+1+1", "'-2+3", "'@A1", "1+2"])
    for name in ("+1+1", "-2+3", "@A1"):
        report = json.loads((out / "students" / name / "report.json").read_text(encoding="utf-8"))
        assert report["submission"] == f"{name}.py", "the report keeps the real name"


def test_every_dangerous_first_character_is_quoted_and_nothing_else():
    for start in FORMULA_STARTS:
        assert spreadsheet_safe(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"
    assert spreadsheet_safe("alice") == "alice" and spreadsheet_safe("12.5") == "12.5" and spreadsheet_safe("") == ""
