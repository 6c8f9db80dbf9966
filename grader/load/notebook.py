"""A Jupyter notebook: the kept statements of its code cells, in order, in one staged module.

Students follow the lecture in one notebook and redefine `class Value` as it grows; every definition is
kept in cell order, so the last one wins exactly as it did in their kernel. IPython-only lines (`%magic`,
`!shell`, `x = !cmd`, `get_ipython()`) and whole `%%` cells are dropped before parsing. A cell that does not
parse is skipped with a note and costs only the parts it defines.

A place in a notebook is named as the student finds it in Jupyter: `In [7]`, the cell's execution count,
with its place among the saved file's cells beside it, `dave.ipynb In [7] (cell 3)`, and the line within
the cell (`dave.ipynb In [7] (cell 3):2`). A cell never run is `dave.ipynb cell 3`; one whose count is its
place (a live notebook's history, `micrograde.check()`) says it once, `notebook.ipynb In [3]`.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from grader.contract import NAMES as REQUIRED_NAMES
from grader.load.single_file import (
    STAGED_MODULE,
    Scope,
    filter_module,
    missing_names_note,
    read_source,
    syntax_error_line,
)
from grader.load.submission import Limits, StagedFile, Submission, SubmissionError, join_names, parse_python

_IPYTHON_LINE = re.compile(r"\s*[%!]|\s*[\w.]+\s*=\s*[%!]|.*\bget_ipython\(")
_DEFINES_REQUIRED = re.compile(rf"^(?:class|def)\s+({'|'.join(REQUIRED_NAMES)})\b", re.MULTILINE)
_PARSE_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
# json's parser recurses once per level on the C stack and only the recursion limit stops it; the grader
# raises that limit for the reference engine, and a notebook nested 200 000 deep would then crash it.
# Real notebooks nest about ten levels.
MAX_JSON_DEPTH = 200
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class IgnoredCode(str):
    """A note about notebook code the grader leaves out just as the kernel did, or as later cells
    superseded it: exploratory code, IPython lines and `%%` cells, earlier definitions, cells that do not
    compile. In the report of a saved notebook each is a line; the live notebook's view
    (`micrograde.check()`), where every cell run adds to them, leaves them out (`Report.notes` keeps them)."""

    __slots__ = ()


def cell_place(number: int, count: int | None = None) -> str:
    """A code cell as the student finds it: `In [7] (cell 3)` (its execution count, and its place among
    the saved cells counted from 1), `In [3]` when the two agree, `cell 3` when it was never run."""
    if count is None:
        return f"cell {number}"
    return f"In [{count}]" if count == number else f"In [{count}] (cell {number})"


def code_cells(text: str, display: str) -> list[tuple[int, int | None, str]]:
    """(cell number, execution count, source) of each code cell; numbers count all cells from the top,
    starting at 1; the count is Jupyter's `In [N]`, None for a cell never run."""
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
        found.append((number, _execution_count(cell), source.replace("\r\n", "\n").replace("\r", "\n")))
    return found


def _execution_count(cell: dict) -> int | None:
    count = cell.get("execution_count", cell.get("prompt_number"))  # nbformat 3 calls it the prompt number
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None


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
    broken: list[str] = []  # each cell that does not compile, as `file In [N] (cell M):line: SyntaxError: message`
    places: dict[int, str] = {}
    code_chars = 0
    for number, count, source in cells:
        place = places[number] = cell_place(number, count)
        if len(source) > limits.max_cell_chars or code_chars + len(source) > limits.max_file_bytes:
            # Not IgnoredCode: the kernel ran this code, the grader leaves it out.
            notes.append(f"skipped {place}: {len(source)} characters of code, more than a cell "
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
            tree = parse_python(source, f"{display} {place}", _PARSE_FLAGS)
        except (SyntaxError, ValueError) as exc:
            notes.append(_broken_cell_note(place, source, exc))
            if isinstance(exc, SyntaxError):
                broken.append(syntax_error_line(f"{display} {place}", exc.lineno or 1, type(exc).__name__,
                                                exc.msg))
            continue
        except RecursionError:
            notes.append(IgnoredCode(f"skipped {place}: it is nested too deeply for Python to read"))
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
                line_map.append((f"{display} {place}", n))
    if not any(name in defined_in for name in REQUIRED_NAMES):
        if broken:  # nothing else to grade: the first cell that does not compile is the whole story
            raise SubmissionError(broken[0])
        raise SubmissionError(f"{display} defines none of {', '.join(REQUIRED_NAMES)}")
    (staged / STAGED_MODULE).write_text("\n".join(out) + "\n", encoding="utf-8")
    notes += _summary_notes(exploratory, ipython_lines, magic_cells, defined_in, places)
    return Submission(origin, staged, "module", notes, {STAGED_MODULE: StagedFile(display, tuple(line_map))})


def _broken_cell_note(place: str, source: str, exc: SyntaxError | ValueError) -> IgnoredCode:
    where = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, SyntaxError) else str(exc)
    note = f"skipped {place}, {where}"
    names = list(dict.fromkeys(_DEFINES_REQUIRED.findall(source)))
    if names:
        note += f"; its {join_names(names)} {'is' if len(names) == 1 else 'are'} not graded"
    return IgnoredCode(note)


def _summary_notes(exploratory: dict[int, int], ipython_lines: dict[int, int], magic_cells: list[int],
                   defined_in: dict[str, list[int]], places: dict[int, str]) -> list[str]:
    def cells(numbers) -> str:
        return _cells([places[number] for number in sorted(set(numbers))])

    notes: list[str] = []
    if exploratory:
        count = sum(exploratory.values())
        notes.append(IgnoredCode(f"skipped {count} line{'s' * (count != 1)} of exploratory code in {cells(exploratory)}"))
    if ipython_lines:
        count = sum(ipython_lines.values())
        notes.append(IgnoredCode(f"dropped {count} IPython magic or shell line{'s' * (count != 1)} in "
                                 f"{cells(ipython_lines)}"))
    if magic_cells:
        notes.append(IgnoredCode(f"dropped {len(magic_cells)} %% cell{'s' * (len(magic_cells) != 1)}: {cells(magic_cells)}"))
    redefined = [f"{name} in {cells(numbers)}" for name in REQUIRED_NAMES if len(numbers := defined_in.get(name, [])) > 1]
    if redefined:
        notes.append(IgnoredCode(f"defined more than once, the last definition is graded: {'; '.join(redefined)}"))
    if (note := missing_names_note(list(defined_in))) is not None:
        notes.append(note)
    return notes


def _cells(places: list[str], limit: int = 8) -> str:
    """The first `limit` places, then `…` for the rest: a line that stays short however many cells ran.
    Cells never run are `cells 4, 8`."""
    never_run = all(place.startswith("cell ") for place in places)
    shown = [place[len("cell "):] for place in places] if never_run else places
    text = ", ".join(shown[:limit]) + (", …" if len(shown) > limit else "")
    return f"cell{'s' * (len(places) != 1)} {text}" if never_run else text
