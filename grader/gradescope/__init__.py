"""The Gradescope autograder zip: `setup.sh` and `run_autograder` at its root (the two files Gradescope
looks for), beside the grader's source tree, which setup.sh installs into the image without a network
fetch of micrograde itself. Gradescope unpacks the zip into /autograder/source."""
from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

from grader.paths import REPO_DIR

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "results.schema.json"
SCRIPTS = ("setup.sh", "run_autograder")
# What an editable install of the grader needs: the package, the solution it compares against, the
# assignments' points, and the files pyproject.toml names.
SOURCE_ITEMS = ("grader", "reference", "assignments", "pyproject.toml", "README.md")
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
            _add(archive, path, name, executable=bool(path.stat().st_mode & stat.S_IXUSR))
            names.append(name)
    return names


def _source_files(repo: Path) -> Iterator[Path]:
    for item in SOURCE_ITEMS:
        path = repo / item
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in path.rglob("*"):
                parts = file.relative_to(repo).parts
                if file.is_file() and not SKIPPED.intersection(parts) and file.suffix != ".pyc":
                    yield file


def _add(archive: zipfile.ZipFile, path: Path, name: str, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, path.read_bytes())
