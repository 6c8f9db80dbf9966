"""The Gradescope autograder zip: `setup.sh` and `run_autograder` at its root (the two files Gradescope
looks for), beside the grader's source tree, which setup.sh installs into the image without a network
fetch of micrograde itself. Gradescope unpacks the zip into /autograder/source."""
from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

from grader.assignment import assignment_path
from grader.dist.student import reference_json
from grader.secret import SECRET_FILE

# Plans drawn from the instructor's secret whose answers the zip carries: each submission is graded on one,
# chosen by its content, so answers memorised from the public plan are worth nothing there either.
SECRET_PLANS = 16
from grader.paths import REPO_DIR

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "results.schema.json"
SCRIPTS = ("setup.sh", "run_autograder")
# What an editable install of the grader needs: the package, the assignments' points, and the files
# pyproject.toml names. Not the reference solution: on Gradescope the sandbox may run without namespaces,
# where student code could read files beside the grader, so the reference's answers go in as data instead
# (`grader/data/reference_results.json`, computed at build time, as for the student edition).
SOURCE_ITEMS = ("grader", "assignments", "pyproject.toml", "README.md")
REFERENCE_DATA = "grader/data/reference_results.json"
SKIPPED = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}
# A fixed timestamp so the same tree always gives the same zip.
STAMP = (2024, 1, 1, 0, 0, 0)


def build(out: Path, repo: Path = REPO_DIR) -> list[str]:
    """Write the autograder zip to `out`; returns the names it holds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    names = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for script in SCRIPTS:
            _add(archive, HERE / script, script, executable=True)
            names.append(script)
        for path in sorted(_source_files(repo)):
            name = path.relative_to(repo).as_posix()
            if name == REFERENCE_DATA:
                continue  # a previous build's copy: always made afresh below
            _add(archive, path, name, executable=bool(path.stat().st_mode & stat.S_IXUSR))
            names.append(name)
        _write(archive, REFERENCE_DATA, reference_json(assignment_path("micrograd"), SECRET_PLANS), executable=False)
        names.append(REFERENCE_DATA)
    return names


def _source_files(repo: Path) -> Iterator[Path]:
    for item in SOURCE_ITEMS:
        path = repo / item
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in path.rglob("*"):
                parts = file.relative_to(repo).parts
                if (file.is_file() and not SKIPPED.intersection(parts) and file.suffix != ".pyc"
                        and file.name != SECRET_FILE):
                    yield file


def _add(archive: zipfile.ZipFile, path: Path, name: str, executable: bool) -> None:
    _write(archive, name, path.read_bytes(), executable)


def _write(archive: zipfile.ZipFile, name: str, content: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, content)
