"""`make dist-student`: the student edition of the grader, the wheel students' CI installs.

It is the grader package without anything that holds or needs the reference solution: no reference/, no
authoring, selftest or Gradescope build, no code of the checks the assignment hides. What the judge needs
from the reference (its answers to the probe plan and to the known wrong training loops) is computed here
and shipped as data, with the assignment's TOML; the training kit (grader/probes/kit.py) is not the
reference and ships as it is. The wheel is written directly (a zip with fixed timestamps), so the same
checkout always gives the same bytes, without a build backend or a network.
"""
from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import importlib.metadata
import json
import re
import sys
import tomllib
import zipfile
from pathlib import Path

from grader import __version__
from grader.assignment import AssignmentError, assignment_path, load_assignment
from grader.data import ASSIGNMENTS_DATA_DIR, DATA_DIR, REFERENCE_RESULTS_FILE
from grader.paths import REPO_DIR, is_checkout

PACKAGE_DIR = Path(__file__).resolve().parent.parent

DISTRIBUTION = "micrograde-student"
SUMMARY = "The student edition of micrograde: grades a micrograd engine without holding the solution"
# Parts of the package that hold or need the reference solution, or serve only the instructor: grading a
# class (grade, merge, the batch runner), authoring, the self-test, the Gradescope build.
INSTRUCTOR_ONLY = ("authoring/", "selftest.py", "commands/authoring.py", "commands/selftest.py", "gradescope/",
                   "commands/gradescope.py", "dist/", "batch/", "commands/grade.py", "commands/merge.py",
                   "commands/publish.py")
# The notebook API (`import micrograde; micrograde.check()`), shipped whole.
NOTEBOOK_PACKAGE_DIR = PACKAGE_DIR.parent / "micrograde"
SHIPPED_SUFFIXES = (".py", ".ini", ".json", ".md")
DESCRIPTION = """\
# micrograde-student

The checker of a course's micrograd assignment: `micrograde check .` in a student's repository (or
`import micrograde; micrograde.check()` in a notebook) grades the engine part by part and explains what is
wrong, with the same numerical checks as the course's grader. It holds no solution and no hidden check."""
STAMP = (1980, 1, 1, 0, 0, 0)  # the oldest a zip can hold: the same checkout gives the same wheel


def wheel_name(version: str) -> str:
    return f"{DISTRIBUTION.replace('-', '_')}-{version}-py3-none-any.whl"


def edition_files(assignment_file: Path) -> dict[str, bytes]:
    """Every file of the student edition's `grader` and `micrograde` packages, by its path in the wheel."""
    assignment = load_assignment(assignment_file)
    files = {}
    for path in sorted(PACKAGE_DIR.rglob("*")):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        if (not path.is_file() or "__pycache__" in path.parts or path.suffix not in SHIPPED_SUFFIXES
                or relative.startswith(INSTRUCTOR_ONLY) or _is_built_data(path)):
            continue
        text = path.read_text(encoding="utf-8")
        if relative.startswith("checks/test_"):
            text = without_functions(text, assignment.hidden, str(path))
        files[f"grader/{relative}"] = text.encode("utf-8")
    for path in sorted(NOTEBOOK_PACKAGE_DIR.glob("*.py")):
        files[f"micrograde/{path.name}"] = path.read_bytes()
    files[_in_wheel(REFERENCE_RESULTS_FILE)] = reference_json(assignment_file)
    toml = without_hidden(assignment_file.read_text(encoding="utf-8"), str(assignment_file))
    files[_in_wheel(ASSIGNMENTS_DATA_DIR / assignment.id / "assignment.toml")] = toml.encode("utf-8")
    return files


def _in_wheel(path: Path) -> str:
    return f"grader/{path.relative_to(PACKAGE_DIR).as_posix()}"


def _is_built_data(path: Path) -> bool:
    """Data a previous build may have left in the checkout's grader/data/: always made afresh."""
    return path.is_relative_to(DATA_DIR) and path != DATA_DIR / "__init__.py"


def reference_json(assignment_file: Path, secret_plans: int = 0) -> bytes:
    """The reference's answers to the assignment's public plan (and, for a grader students never see, to
    `secret_plans` plans drawn from the instructor's secret), as the shipped data file."""
    from grader.assignment import load_assignment
    from grader.reference import has_reference, reference_data

    if not has_reference():
        raise SystemExit("the student edition is built from the instructor's checkout: reference/ is missing")
    data = reference_data(load_assignment(assignment_file), secret_plans)
    return (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def without_functions(source: str, names: tuple[str, ...], filename: str = "<checks>") -> str:
    """`source` without the top-level functions named in `names`, their decorators and the comment lines
    right above them."""
    tree = ast.parse(source, filename)
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            while first > 0 and lines[first - 1].lstrip().startswith("#"):
                first -= 1
            last = node.end_lineno
            while last < len(lines) and not lines[last].strip() and last - node.end_lineno < 2:
                last += 1
            drop.update(range(first, last))
    kept = "".join(line for i, line in enumerate(lines) if i not in drop)
    left = {node.name for node in ast.parse(kept, filename).body if isinstance(node, ast.FunctionDef)}
    assert not left & set(names), f"{filename}: could not remove {sorted(left & set(names))}"
    return kept


def without_hidden(toml: str, source: str = "<assignment>") -> str:
    """The assignment's TOML with its `hidden` list emptied: the student edition knows no hidden check."""
    edited = re.sub(r"^hidden\s*=\s*\[[^\]]*\]", "hidden = []", toml, count=1, flags=re.MULTILINE)
    before, after = tomllib.loads(toml), tomllib.loads(edited)
    before.pop("hidden", None)
    if after.pop("hidden", []) != [] or before != after:
        raise SystemExit(f"{source}: could not empty the `hidden` list; write it as hidden = [\"...\", ...]")
    return edited


def project_table() -> dict:
    """The instructor's package's name, version, Python and base dependencies: from pyproject.toml in a
    checkout, else from the installed package's metadata (an installed grader publishes too)."""
    if is_checkout():
        return tomllib.loads((REPO_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = importlib.metadata.metadata("micrograde")
    return {"version": installed["Version"], "requires-python": installed["Requires-Python"],
            "dependencies": [line for line in installed.get_all("Requires-Dist") or [] if "extra ==" not in line]}


def metadata() -> tuple[str, str]:
    """The wheel's version (the grader's) and its METADATA text, from pyproject.toml's [project] table."""
    project = project_table()
    if project["version"] != __version__:
        raise SystemExit(f"pyproject.toml says version {project['version']}, grader/__init__.py {__version__}: "
                         "make them agree (the students' workflow installs the wheel by its version)")
    lines = ["Metadata-Version: 2.1", f"Name: {DISTRIBUTION}", f"Version: {__version__}",
             f"Summary: {SUMMARY}", f"Requires-Python: {project['requires-python']}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in project["dependencies"]]
    lines += ["Description-Content-Type: text/markdown", "", DESCRIPTION]
    return __version__, "\n".join(lines) + "\n"


def build(out_dir: Path, assignment: str | Path = "micrograd") -> Path:
    """Write the student edition's wheel for `assignment` (an id or the path of its TOML file) into `out_dir`
    and return its path."""
    version, meta = metadata()
    info = f"{DISTRIBUTION.replace('-', '_')}-{version}.dist-info"
    files = edition_files(assignment_path(assignment))
    files[f"{info}/METADATA"] = meta.encode("utf-8")
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: grader.dist.student\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nmicrograde = grader.cli:entry\n"
    files[f"{info}/top_level.txt"] = b"grader\nmicrograde\n"
    record = [f"{name},sha256={_digest(content)},{len(content)}" for name, content in sorted(files.items())]
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / wheel_name(version)
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            entry = zipfile.ZipInfo(name, STAMP)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, content)
    return wheel


def _digest(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.dist.student", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_DIR / "dist", help="folder to write the wheel into (default: dist/)")
    parser.add_argument("--assignment", default="micrograd",
                        help="assignment id or path of its TOML file: its hidden checks are left out (default: micrograd)")
    args = parser.parse_args(argv)
    try:
        wheel = build(args.out, args.assignment)
    except AssignmentError as exc:
        parser.error(str(exc))
    print(f"wrote {wheel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
