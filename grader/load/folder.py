"""A folder hand-in: find the `micrograd/` package in it (or its one .py file or notebook) and stage it.

The package may be the folder itself (it holds engine.py) or sit up to two levels down, as in a zip of
`student-name/micrograd/`. Only its .py files are copied, with the same lines, to `staged/micrograd/`.
"""
from __future__ import annotations

import difflib
from pathlib import Path

from grader.contract import ENGINE_FILE, FILES, PACKAGE
from grader.load.notebook import stage_notebook
from grader.load.single_file import read_source, stage_python_file
from grader.load.submission import Limits, StagedFile, Submission, SubmissionError, human_size, join_names

SEARCH_DEPTH = 2
_SKIPPED_FOLDERS = {"__pycache__", "__MACOSX", "test", "tests"}


def stage_folder(root: Path, origin: Path, staged: Path, limits: Limits, notes: list[str], label: str,
                 root_name: str = "") -> Submission:
    """Stage what `root` holds. `label` names the hand-in in messages; `root_name`, when the student's
    folder has a name of its own, starts the display paths of a package that is the folder itself."""
    folders = _folders(root)
    package = _find_package(folders, root, label)
    if package is not None:
        shown_from = root.parent if package == root and root_name else root
        return _stage_package(package, origin, staged, limits, notes, shown_from)
    files = [f for folder, _ in folders for f in _visible(folder)
             if f.is_file() and f.suffix.lower() in (".py", ".ipynb") and not _is_setup_or_test(f)]
    if len(files) == 1:
        stage = stage_notebook if files[0].suffix.lower() == ".ipynb" else stage_python_file
        submission = stage(files[0], files[0].relative_to(root).as_posix(), origin, staged, limits)
        submission.notes[:0] = notes
        return submission
    if not files:
        entries = [entry.name for entry in _visible(root)]
        if not entries:
            raise SubmissionError(f"{label} is empty")
        raise SubmissionError(f"{label} holds no {PACKAGE}/ package, .py file or .ipynb notebook "
                              f"(found {join_names(entries)})")
    shown = [f.relative_to(root).as_posix() for f in files]
    names = [f.name for f in files if f.suffix.lower() == ".py"]
    renames = _renames(names, list(FILES))
    if renames or set(names) & set(FILES):
        raise SubmissionError(f"found {join_names(shown)}; expected {PACKAGE}/{join_names(list(FILES))}"
                              + _rename_hint(renames))
    raise SubmissionError(f"{label} holds {len(files)} .py and .ipynb files ({join_names(shown)}); "
                          f"hand in a {PACKAGE}/ package, or a single .py file or notebook")


def _stage_package(package: Path, origin: Path, staged: Path, limits: Limits, notes: list[str],
                   shown_from: Path) -> Submission:
    files = _package_files(package, limits, notes, shown_from)
    top = [f.name for f in files if f.parent == package]
    prefix = f"{package.relative_to(shown_from).as_posix()}/" if package != shown_from else ""
    missing = [name for name in FILES if name not in top]
    others = [name for name in top if name not in FILES and name != "__init__.py"]
    renames = {new: old for old, new in _renames(others, missing)}
    if len(missing) == len(FILES):
        found = join_names([f"{prefix}{name}" for name in top]) if top else "no .py files"
        raise SubmissionError(f"found {found}; expected {prefix}{join_names(list(FILES))}"
                              + _rename_hint([(old, new) for new, old in renames.items()]))
    total = sum(f.stat().st_size for f in files)
    if total > limits.max_total_bytes:
        raise SubmissionError(f"the package's .py files come to {human_size(total)}, "
                              f"over the {human_size(limits.max_total_bytes)} limit")
    target = staged / PACKAGE
    sources = {}
    for file in files:
        shown = file.relative_to(shown_from).as_posix()
        text = read_source(file, shown, limits.max_file_bytes)
        staged_file = target / file.relative_to(package)
        staged_file.parent.mkdir(parents=True, exist_ok=True)
        staged_file.write_text(text, encoding="utf-8")
        sources[staged_file.relative_to(staged).as_posix()] = StagedFile(shown)
    if not (target / "__init__.py").exists():
        (target / "__init__.py").write_text("", encoding="utf-8")
    for name in missing:
        hint = f" (rename {renames[name]} to {name}?)" if name in renames else ""
        notes.append(f"no {prefix}{name} found{hint}: the parts that need {', '.join(FILES[name])} "
                     "will be reported as missing")
    return Submission(origin, staged, "package", notes, sources)


def _package_files(package: Path, limits: Limits, notes: list[str], shown_from: Path) -> list[Path]:
    """The package's .py files and those of its sub-packages, in a fixed order; links are never followed."""
    files: list[Path] = []
    pending = [package]
    while pending:
        folder = pending.pop(0)
        for entry in _visible(folder, keep_links=True):
            if entry.is_symlink():
                notes.append(f"skipped {entry.relative_to(shown_from).as_posix()}: it is a symbolic link")
            elif entry.is_dir() and entry.name not in _SKIPPED_FOLDERS and (entry / "__init__.py").is_file():
                pending.append(entry)
            elif entry.is_file() and entry.suffix == ".py":
                files.append(entry)
                if len(files) > limits.max_files:
                    raise SubmissionError(f"the package holds more than {limits.max_files} .py files")
    return files


def _find_package(folders: list[tuple[Path, int]], root: Path, label: str) -> Path | None:
    """The shallowest folder holding engine.py, or named micrograd and holding .py files."""
    candidates = []
    for folder, depth in folders:
        has_engine = (folder / ENGINE_FILE).is_file()
        named = folder.name.lower() == PACKAGE and any(
            f.suffix == ".py" and f.is_file() and not _is_setup_or_test(f) for f in _visible(folder))
        if has_engine or named:
            candidates.append((depth, not has_engine, folder))
    if not candidates:
        return None
    candidates.sort()
    best = [c for c in candidates if c[:2] == candidates[0][:2]]
    if len(best) > 1:
        shown = [c[2].relative_to(root).as_posix() for c in best]
        raise SubmissionError(f"{label} holds {len(best)} {PACKAGE} packages ({join_names(shown)}); hand in one")
    return best[0][2]


def _folders(root: Path) -> list[tuple[Path, int]]:
    """`root` and the folders up to SEARCH_DEPTH below it, breadth first, skipping hidden and tooling ones."""
    found = [(root, 0)]
    for folder, depth in found:
        if depth < SEARCH_DEPTH:
            found += [(sub, depth + 1) for sub in _visible(folder) if sub.is_dir() and sub.name not in _SKIPPED_FOLDERS]
    return found


def _visible(folder: Path, keep_links: bool = False) -> list[Path]:
    """Entries of `folder` in name order, without dotfiles and (unless asked) without symbolic links."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [e for e in entries if not e.name.startswith(".") and (keep_links or not e.is_symlink())]


def _is_setup_or_test(file: Path) -> bool:
    return file.name in ("setup.py", "conftest.py") or file.name.startswith("test_") or file.stem.endswith("_test")


def _renames(found: list[str], wanted: list[str]) -> list[tuple[str, str]]:
    """(found name, wanted name) pairs that look like the same file misnamed, e.g. Engine.py for engine.py."""
    stems = {Path(name).stem.lower(): name for name in found}
    pairs = []
    for name in wanted:
        match = difflib.get_close_matches(Path(name).stem, list(stems), n=1, cutoff=0.6)
        if match and stems[match[0]] != name:
            pairs.append((stems.pop(match[0]), name))
    return pairs


def _rename_hint(renames: list[tuple[str, str]]) -> str:
    if not renames:
        return ""
    return f" (rename {join_names([f'{old} to {new}' for old, new in renames])})"
