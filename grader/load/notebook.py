"""A Jupyter notebook: the kept statements of its code cells, in order, in one staged module.

Students follow the lecture in one notebook and redefine `class Value` as it grows; every definition is
kept in cell order, so the last one wins exactly as it did in their kernel. IPython-only lines (`%magic`,
`!shell`, `x = !cmd`, `get_ipython()`) and whole `%%` cells are dropped before parsing. A cell that does not
parse is skipped with a note and costs only the parts it defines.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from grader.load.single_file import (
    STAGED_MODULE,
    Scope,
    exploratory_note,
    filter_module,
    missing_names_note,
    read_source,
    syntax_error_line,
)
from grader.load.submission import REQUIRED_NAMES, Limits, StagedFile, Submission, SubmissionError, join_names

_IPYTHON_LINE = re.compile(r"\s*[%!]|\s*[\w.]+\s*=\s*[%!]|.*\bget_ipython\(")
_DEFINES_REQUIRED = re.compile(rf"^(?:class|def)\s+({'|'.join(REQUIRED_NAMES)})\b", re.MULTILINE)
_PARSE_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
# json's parser recurses once per level on the C stack and only the recursion limit stops it; the grader
# raises that limit for the reference engine, and a notebook nested 200 000 deep would then crash it.
# Real notebooks nest about ten levels.
MAX_JSON_DEPTH = 200
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def code_cells(text: str, display: str) -> list[tuple[int, str]]:
    """(cell number, source) of each code cell; numbers count all cells from the top, starting at 1."""
    if json_too_deep(text):
        raise SubmissionError(f"{display} is not a valid notebook: its JSON is nested too deeply")
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{display} is not a valid notebook: its JSON breaks at line {exc.lineno} ({exc.msg})") from None
    except RecursionError:
        raise SubmissionError(f"{display} is not a valid notebook: its JSON is nested too deeply") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if cells is None and isinstance(notebook, dict) and isinstance(notebook.get("worksheets"), list):  # nbformat 3
        cells = [cell for sheet in notebook["worksheets"] if isinstance(sheet, dict) for cell in sheet.get("cells", [])]
    if not isinstance(cells, list):
        raise SubmissionError(f"{display} is not a Jupyter notebook: it has no list of cells")
    found = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise SubmissionError(f"{display} is not a Jupyter notebook: cell {number} is not a cell")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list) and all(isinstance(piece, str) for piece in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise SubmissionError(f"{display} is not a Jupyter notebook: cell {number} has no readable source")
        found.append((number, source.replace("\r\n", "\n").replace("\r", "\n")))
    return found


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON in `text` nests lists and objects more than `limit` deep, found without recursion."""
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def stage_notebook(path: Path, display: str, origin: Path, staged: Path, limits: Limits) -> Submission:
    """Stage a notebook as `staged/submission.py`; `locate` answers with the cell and the line in it."""
    cells = code_cells(read_source(path, display, limits.max_notebook_bytes), display)
    scope = Scope()
    out: list[str] = []
    line_map: list[tuple[str, int] | None] = []
    defined_in: dict[str, list[int]] = {}
    exploratory: dict[int, int] = {}
    ipython_lines: dict[int, int] = {}
    magic_cells: list[int] = []
    notes: list[str] = []
    broken: list[str] = []  # each cell that does not compile, as `file cell N:line: SyntaxError: message`
    code_chars = 0
    for number, source in cells:
        if len(source) > limits.max_cell_chars or code_chars + len(source) > limits.max_file_bytes:
            notes.append(f"skipped cell {number}: {len(source)} characters of code, more than a cell "
                         f"({limits.max_cell_chars}) or a notebook ({limits.max_file_bytes}) may hold")
            continue
        code_chars += len(source)
        lines = source.split("\n")
        if next((line.strip() for line in lines if line.strip()), "").startswith("%%"):
            magic_cells.append(number)
            continue
        for i, line in enumerate(lines):
            if _IPYTHON_LINE.match(line):
                lines[i] = ""
                ipython_lines[number] = ipython_lines.get(number, 0) + 1
        source = "\n".join(lines)
        try:
            tree = compile(source, f"{display} cell {number}", "exec", _PARSE_FLAGS, dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            notes.append(_broken_cell_note(number, source, exc))
            if isinstance(exc, SyntaxError):
                broken.append(syntax_error_line(f"{display} cell {number}", exc.lineno or 1, type(exc).__name__,
                                                exc.msg))
            continue
        except RecursionError:
            notes.append(f"skipped cell {number}: it is nested too deeply for Python to read")
            continue
        filtered = filter_module(source, tree, scope)
        if filtered.dropped:
            exploratory[number] = len(filtered.dropped)
        for name in filtered.defined:
            defined_in.setdefault(name, []).append(number)
        if filtered.kept:
            out.append(f"# cell {number}")
            line_map.append(None)
            for n in filtered.kept:
                out.append(filtered.lines[n - 1])
                line_map.append((f"{display} cell {number}", n))
    if not any(name in defined_in for name in REQUIRED_NAMES):
        if broken:  # nothing else to grade: the first cell that does not compile is the whole story
            raise SubmissionError(broken[0])
        raise SubmissionError(f"{display} defines none of {', '.join(REQUIRED_NAMES)}")
    (staged / STAGED_MODULE).write_text("\n".join(out) + "\n", encoding="utf-8")
    notes += _summary_notes(exploratory, ipython_lines, magic_cells, defined_in)
    return Submission(origin, staged, "module", notes, {STAGED_MODULE: StagedFile(display, tuple(line_map))})


def _broken_cell_note(number: int, source: str, exc: SyntaxError | ValueError) -> str:
    where = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, SyntaxError) else str(exc)
    note = f"skipped cell {number}, {where}"
    names = list(dict.fromkeys(_DEFINES_REQUIRED.findall(source)))
    if names:
        note += f"; its {join_names(names)} {'is' if len(names) == 1 else 'are'} not graded"
    return note


def _summary_notes(exploratory: dict[int, int], ipython_lines: dict[int, int], magic_cells: list[int],
                   defined_in: dict[str, list[int]]) -> list[str]:
    notes = []
    if exploratory:
        notes.append(exploratory_note(sum(exploratory.values()), _cells(list(exploratory))))
    if ipython_lines:
        count = sum(ipython_lines.values())
        notes.append(f"dropped {count} IPython magic or shell line{'s' * (count != 1)} ({_cells(list(ipython_lines))})")
    if magic_cells:
        notes.append(f"dropped {len(magic_cells)} %% cell{'s' * (len(magic_cells) != 1)} ({_cells(magic_cells)})")
    redefined = [f"{name} ({_cells(cells)})" for name in REQUIRED_NAMES if len(cells := defined_in.get(name, [])) > 1]
    if redefined:
        notes.append(f"defined more than once, the last definition is graded: {', '.join(redefined)}")
    if (note := missing_names_note(list(defined_in))) is not None:
        notes.append(note)
    return notes


def _cells(numbers: list[int], limit: int = 8) -> str:
    numbers = sorted(set(numbers))
    shown = ", ".join(str(n) for n in numbers[:limit]) + (", …" if len(numbers) > limit else "")
    return f"cell{'s' * (len(numbers) != 1)} {shown}"
