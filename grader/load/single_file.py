"""A single .py file: keep its definitions, blank out its exploratory code, never run any of it.

The statement filter here is shared with notebooks. Kept: imports, classes, functions, and assignments to
names or attributes whose value makes no call (`EPS = 1e-6`, `Value.__radd__ = Value.__add__`). Dropped:
everything else (training runs, plots, `draw_dot(...)`, loops, `if __name__ == "__main__":`), and also an
assignment that reads a name no kept statement defines (`L = a * b` after `a = Value(2.0)` was dropped),
since running it could only fail.
"""
from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from pathlib import Path

from grader.contract import NAMES
from grader.load.submission import (
    Limits,
    StagedFile,
    Submission,
    SubmissionError,
    human_size,
    join_names,
    parse_python,
)

STAGED_MODULE = "submission.py"
_NEVER_AT_IMPORT = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)
_KNOWN_NAMES = frozenset(dir(builtins)) | {"__file__"}


def read_source(path: Path, display: str, max_bytes: int) -> str:
    """The file's text with newlines made `\\n`; a file too large or not UTF-8 is a SubmissionError."""
    size = path.stat().st_size
    if size > max_bytes:
        raise SubmissionError(f"{display} is {human_size(size)}, over the {human_size(max_bytes)} limit")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SubmissionError(f"{display} line {line} is not UTF-8 text; save the file as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class Scope:
    """Module-level names bound so far by kept statements, read in order across a file or a notebook's cells."""

    bound: set[str] = field(default_factory=set)
    star_import: bool = False

    def knows(self, name: str) -> bool:
        return self.star_import or name in self.bound or name in _KNOWN_NAMES


@dataclass
class Filtered:
    """One parsed source after filtering; `lines` has one entry per source line, "" where code was dropped."""

    lines: list[str]
    kept: list[int]  # 1-based numbers of the lines that hold kept code
    dropped: list[int]  # 1-based numbers of the non-blank lines of dropped code
    defined: list[str]  # names bound by kept classes, functions and assignments, in order


def filter_module(source: str, tree: ast.Module, scope: Scope) -> Filtered:
    """Keep the allowed top-level statements of `tree` at their original line numbers."""
    original = source.split("\n")
    result = Filtered([""] * len(original), [], [], [])
    dropped: set[int] = set()
    for group in _line_groups(tree.body):
        keep = [_keep(statement, scope, result.defined) for statement in group]
        first, last = _first_line(group[0]), group[-1].end_lineno or group[-1].lineno
        if all(keep):
            result.lines[first - 1:last] = original[first - 1:last]
            result.kept.extend(range(first, last + 1))
        elif any(keep):
            # Statements sharing a line (`a = 1; plot(a)`): keep the allowed ones, still from that line on.
            text = "; ".join(ast.get_source_segment(source, s) or "" for s, k in zip(group, keep) if k)
            for offset, piece in enumerate(text.split("\n")):
                result.lines[first - 1 + offset] = piece
                result.kept.append(first + offset)
        for statement, kept in zip(group, keep):
            if not kept and not _is_docstring_or_pass(statement):
                span = range(_first_line(statement), (statement.end_lineno or statement.lineno) + 1)
                dropped.update(n for n in span if original[n - 1].strip())
    result.dropped = sorted(dropped)
    return result


def _line_groups(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """Top-level statements, grouped when they share a line; almost every group is a single statement."""
    groups: list[list[ast.stmt]] = []
    for statement in body:
        if groups and _first_line(statement) <= (groups[-1][-1].end_lineno or 0):
            groups[-1].append(statement)
        else:
            groups.append([statement])
    return groups


def _first_line(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", [])
    return min([statement.lineno, *(d.lineno for d in decorators)])


def _is_docstring_or_pass(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Pass):
        return True
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _keep(statement: ast.stmt, scope: Scope, defined: list[str]) -> bool:
    """Whether to keep one top-level statement; a kept statement's names become known to later ones."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        for alias in statement.names:
            if alias.name == "*":
                scope.star_import = True
            else:
                scope.bound.add(alias.asname or alias.name.split(".")[0])
        return True
    if isinstance(statement, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        scope.bound.add(statement.name)
        defined.append(statement.name)
        return True
    if isinstance(statement, ast.Assign):
        targets, values = statement.targets, [statement.value]
    elif isinstance(statement, ast.AnnAssign):
        targets, values = [statement.target], [statement.annotation]
        values += [statement.value] if statement.value is not None else []
    else:
        return False
    if not all(_is_plain_target(t) and _is_inert(t, scope) for t in targets):
        return False
    if not all(_is_inert(v, scope) for v in values):
        return False
    if isinstance(statement, ast.AnnAssign) and statement.value is None:
        return True  # `x: float` binds nothing
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                scope.bound.add(node.id)
                defined.append(node.id)
    return True


def _is_plain_target(target: ast.expr) -> bool:
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_is_plain_target(t) for t in target.elts)
    if isinstance(target, ast.Starred):
        return _is_plain_target(target.value)
    return isinstance(target, (ast.Name, ast.Attribute))


def _is_inert(expr: ast.expr, scope: Scope) -> bool:
    """No call, await, yield or walrus runs while evaluating `expr`, and every name it reads is known.

    A lambda's body runs only when called, so only its default values are looked at; names a
    comprehension binds for itself count as known.
    """
    own = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    pending: list[ast.AST] = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, _NEVER_AT_IMPORT):
            return False
        is_read = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in own
        if is_read and not scope.knows(node.id):
            return False
        if isinstance(node, ast.Lambda):
            pending.extend(d for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None)
        else:
            pending.extend(ast.iter_child_nodes(node))
    return True


def parse_error(display: str, exc: SyntaxError | ValueError) -> str:
    """A syntax error as the one line a compiler prints: `file:line: SyntaxError: message`."""
    if isinstance(exc, ValueError):  # e.g. null bytes in the source
        return f"{display} is not Python source: {exc}"
    return syntax_error_line(display, exc.lineno or 1, type(exc).__name__, exc.msg)


def syntax_error_line(display: str, line: int, error_type: str, message: str) -> str:
    """`file:line: SyntaxError: message`, the form editors and terminals turn into a link to the line."""
    return f"{display}:{line}: {error_type}: {message}"


def exploratory_note(count: int, where: str) -> str:
    return f"skipped {count} line{'s' * (count != 1)} of exploratory code ({where})"


def missing_names_note(defined: list[str]) -> str | None:
    missing = [name for name in NAMES if name not in defined]
    if not missing:
        return None
    return f"no {join_names(missing)} defined: the parts that need {'them' if len(missing) > 1 else 'it'} will be reported as missing"


def stage_python_file(path: Path, display: str, origin: Path, staged: Path, limits: Limits) -> Submission:
    """Stage a single .py file as `staged/submission.py`, each kept line at its original line number."""
    source = read_source(path, display, limits.max_file_bytes)
    try:
        tree = parse_python(source, display)
    except (SyntaxError, ValueError) as exc:
        raise SubmissionError(parse_error(display, exc)) from None
    except RecursionError:
        raise SubmissionError(f"{display} is nested too deeply for Python to read") from None
    filtered = filter_module(source, tree, Scope())
    if not any(name in filtered.defined for name in NAMES):
        raise SubmissionError(f"{display} defines none of {', '.join(NAMES)}")
    text = "\n".join(filtered.lines).rstrip("\n") + "\n"
    (staged / STAGED_MODULE).write_text(text, encoding="utf-8")
    notes = []
    if filtered.dropped:
        where = ("line " if len(filtered.dropped) == 1 else "lines ") + line_ranges(filtered.dropped)
        notes.append(exploratory_note(len(filtered.dropped), where))
    if (note := missing_names_note(filtered.defined)) is not None:
        notes.append(note)
    return Submission(origin, staged, "module", notes, {STAGED_MODULE: StagedFile(display)})


def line_ranges(lines: list[int], limit: int = 6) -> str:
    """[3, 4, 5, 9] -> '3-5, 9'; long lists end with '…'."""
    ranges: list[list[int]] = []
    for n in sorted(set(lines)):
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    parts = [f"{a}-{b}" if a != b else str(a) for a, b in ranges]
    return ", ".join(parts[:limit]) + (", …" if len(parts) > limit else "")
