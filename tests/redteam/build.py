"""Make the red-team hand-ins of manifest.toml: honest base code plus an attack, in the form a student hands in.

Folders, single files and notebooks are stored as source under submissions/; archives, symbolic links and
pathological JSON are made here at test time, because a checkout cannot hold them as they must be.

    for hostile in load_hostiles():
        path = build_hostile(hostile, class_folder, run)   # class_folder/<name> or <name>.zip / .py / .ipynb

`run` is a token of the test run: it replaces {run} in the stored sources, so the markers and folders an
attack looks for are those of this run only.
"""
from __future__ import annotations

import json
import shutil
import stat
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.contract import FILES, PACKAGE

REDTEAM_DIR = Path(__file__).resolve().parent
SUBMISSIONS_DIR = REDTEAM_DIR / "submissions"
MANIFEST = REDTEAM_DIR / "manifest.toml"
TESTS_DIR = REDTEAM_DIR.parent
REPO_DIR = TESTS_DIR.parent
TEMPLATE_PACKAGE = REPO_DIR / "student_template" / PACKAGE
REFERENCE_PACKAGE = REPO_DIR / "reference" / PACKAGE
MODULES = tuple(FILES)
MARKER = "micrograde-redteam"

if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))
from corpus_tools import build_mutant, load_mutants  # tests/ is not a package: found through sys.path


@dataclass(frozen=True)
class Hostile:
    """One hostile hand-in: how to make it, what it attacks, and what its score may not exceed."""

    name: str
    form: str
    base: str
    attack: str
    root_only: bool = False
    targets: tuple[str, ...] = ()
    records: str = ""  # form "pipe-records": the records written to the results pipe (see submissions/pipe_records.py)
    expect: str = ""  # words its report must hold, saying what the grader refused

    def targets_in(self, class_folder: Path, out: Path, run: str) -> list[str]:
        """The globs of files the attack tries to create, in run `run`, grading `class_folder` into `out`."""
        return [t.format(tmp="/tmp", repo=REPO_DIR, run=run, **{"class": class_folder, "out": out})
                for t in self.targets]


def _manifest() -> dict:
    with MANIFEST.open("rb") as handle:
        return tomllib.load(handle)


def load_hostiles() -> list[Hostile]:
    return [Hostile(**{**entry, "targets": tuple(entry.get("targets", ()))}) for entry in _manifest()["hostile"]]


def load_bad_values() -> list[dict]:
    return list(_manifest()["bad_value"])


# ------------------------------------------------------------------------------------------------ bases

def build_base(base: str, dest: Path) -> Path:
    """The honest code a hostile hand-in starts from, as dest/micrograd/; returns dest."""
    dest.mkdir(parents=True, exist_ok=True)
    if base in ("template", "reference"):
        package = TEMPLATE_PACKAGE if base == "template" else REFERENCE_PACKAGE
        shutil.copytree(package, dest / "micrograd", ignore=shutil.ignore_patterns("__pycache__"))
        return dest
    if base.startswith("mutant:"):
        name = base.removeprefix("mutant:")
        entry = next((m for m in load_mutants() if m["name"] == name), None)
        if entry is None:
            raise ValueError(f"no mutant named {name!r} in tests/corpus/mutants.toml")
        return build_mutant(entry, dest)
    raise ValueError(f"unknown base {base!r}")


def module_source(package: Path, name: str) -> str:
    """One module of `package` without its import of the package's engine, to stand in a single file."""
    return (package / name).read_text(encoding="utf-8").replace("from micrograd.engine import Value\n", "")


def single_file_source(package: Path) -> str:
    """engine.py, nn.py and train.py of `package` as one module, the way a single-file student writes it."""
    return "\n\n".join(module_source(package, name) for name in MODULES)


def _code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source.splitlines(keepends=True)}


def _notebook(cells: list[dict]) -> dict:
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


# ----------------------------------------------------------------------------------------------- forms

def build_hostile(hostile: Hostile, folder: Path, run: str) -> Path:
    """Make `hostile` for run `run` inside `folder` (a class folder) and return the path of the hand-in."""
    scratch = folder / f".base-{hostile.name}"
    try:
        package = build_base(hostile.base, scratch) / "micrograd"
        return FORMS[hostile.form](hostile, package, folder, run)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def build_bad_value(entry: dict, folder: Path) -> Path:
    """A [[bad_value]] of the manifest: the reference package with its overlay, at folder/<name>."""
    return build_overlay(entry["name"], "reference", folder, run="")


def build_overlay(name: str, base: str, folder: Path, run: str) -> Path:
    """The base package with the files of submissions/<name>/ laid over it, at folder/<name>."""
    dest = folder / name
    build_base(base, dest)
    source = SUBMISSIONS_DIR / name
    for file in sorted(source.rglob("*.py")):
        if "__pycache__" not in file.parts:
            target = dest / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_fill(file.read_text(encoding="utf-8"), run), encoding="utf-8")
    return dest


def _fill(text: str, run: str) -> str:
    """A stored attack with {repo} (so it aims at the real checkout, wherever it is) and {run} filled in."""
    return text.replace("{repo}", str(REPO_DIR)).replace("{run}", run)


def _folder(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    return build_overlay(hostile.name, hostile.base, folder, run)


def _single_file(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    """The base as one file, followed by the hostile top-level code (so a redefinition there would win)."""
    attack = _fill((SUBMISSIONS_DIR / f"{hostile.name}.py").read_text(encoding="utf-8"), run)
    dest = folder / f"{hostile.name}.py"
    dest.write_text(single_file_source(package) + "\n\n" + attack, encoding="utf-8")
    return dest


def _notebook_file(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    """The base as one cell per module, followed by the hostile cells (so a redefinition there would win)."""
    attack = json.loads(_fill((SUBMISSIONS_DIR / f"{hostile.name}.ipynb").read_text(encoding="utf-8"), run))
    cells = [_code_cell(module_source(package, name)) for name in MODULES]
    dest = folder / f"{hostile.name}.ipynb"
    dest.write_text(json.dumps(_notebook(cells + attack["cells"]), indent=1), encoding="utf-8")
    return dest


def _zip_package(zf: zipfile.ZipFile, package: Path, prefix: str, skip: tuple[str, ...] = ()) -> None:
    for file in sorted(package.glob("*.py")):
        if file.name not in skip:
            zf.write(file, f"{prefix}micrograd/{file.name}")


def _zip_slip(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    """The base package, plus entries that climb out of the unpack folder or name an absolute path."""
    dest = folder / f"{hostile.name}.zip"
    mark = f"{MARKER}-{run}-{hostile.name}"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        _zip_package(zf, package, f"{hostile.name}/")
        zf.writestr(f"../../{mark}-relative.py", "# written outside the unpack folder\n")
        zf.writestr(f"{hostile.name}/micrograd/../../../../{mark}-nested.py", "# a climb from inside the package\n")
        for target in hostile.targets_in(folder, folder, run):
            zf.writestr(target, "# written to an absolute path\n")
    return dest


BOMB_BYTES = 512 << 20


def _zip_bomb(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    """The base package plus a 512 MiB .py member of one repeated comment line, about 1.5 MB compressed."""
    dest = folder / f"{hostile.name}.zip"
    line = b"# " + b"x" * 1021 + b"\n"
    block = line * 1024
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        _zip_package(zf, package, "")
        with zf.open("micrograd/padding.py", "w", force_zip64=True) as member:
            for _ in range(BOMB_BYTES // len(block)):
                member.write(block)
    return dest


def _symlink_entry(zf: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so the mode bits below are read
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(info, target)


def _zip_symlinks(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    """The base package whose engine.py, and a folder beside it, are symbolic link entries."""
    dest = folder / f"{hostile.name}.zip"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        _zip_package(zf, package, "", skip=("engine.py",))
        _symlink_entry(zf, "micrograd/engine.py", str(REFERENCE_PACKAGE / "engine.py"))
        _symlink_entry(zf, "micrograd/root", "/")
        _symlink_entry(zf, "micrograd/reference.py", "../../../../../../../.." + str(REFERENCE_PACKAGE / "nn.py"))
    return dest


def _folder_symlinks(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    """The base package with engine.py and nn.py replaced by links to the reference's."""
    dest = folder / hostile.name
    shutil.copytree(package, dest / "micrograd")
    for name in ("engine.py", "nn.py"):
        (dest / "micrograd" / name).unlink()
        (dest / "micrograd" / name).symlink_to(REFERENCE_PACKAGE / name)
    return dest


NESTING = 200_000


def _notebook_nested(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    """The base as a notebook whose metadata nests lists NESTING deep, written without recursion."""
    text = json.dumps(_notebook([_code_cell(module_source(package, name)) for name in MODULES]))
    nested = "[" * NESTING + "]" * NESTING
    dest = folder / f"{hostile.name}.ipynb"
    dest.write_text(text.replace('"metadata": {"kernelspec"', f'"metadata": {{"deep": {nested}, "kernelspec"', 1),
                    encoding="utf-8")
    return dest


def _pipe_records(hostile: Hostile, package: Path, folder: Path, run: str) -> Path:
    """The base package whose __init__.py writes the manifest entry's `records` to the results pipe."""
    dest = folder / hostile.name
    shutil.copytree(package, dest / "micrograd")
    source = (SUBMISSIONS_DIR / "pipe_records.py").read_text(encoding="utf-8")
    (dest / "micrograd" / "__init__.py").write_text(source.replace("{records}", hostile.records), encoding="utf-8")
    return dest


FORMS = {"folder": _folder, "py": _single_file, "ipynb": _notebook_file, "zip-slip": _zip_slip,
         "zip-bomb": _zip_bomb, "zip-symlinks": _zip_symlinks, "folder-symlinks": _folder_symlinks,
         "notebook-nested": _notebook_nested, "pipe-records": _pipe_records}
