"""Unpack a .zip hand-in safely: nothing outside the target folder, no links, bounded in count and size.

Only .py files and notebooks are unpacked, since nothing else is ever graded. Sizes are counted while
decompressing, so a header that lies about its size cannot get past the bounds.
"""
from __future__ import annotations

import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from grader.load.submission import Limits, SubmissionError, human_size

_CHUNK = 64 * 1024
MAX_ENTRY_DEPTH = 32  # folders above an entry; pathlib would recurse once per level to make them
_WANTED = (".py", ".ipynb")
_DRIVE = re.compile(r"^[A-Za-z]:")


def unpack_zip(archive: Path, target: Path, limits: Limits, notes: list[str]) -> None:
    """Unpack the .py and .ipynb entries of `archive` into the empty folder `target`."""
    name = archive.name
    size = archive.stat().st_size
    if size > limits.max_archive_bytes:
        raise SubmissionError(f"{name} is {human_size(size)}, over the {human_size(limits.max_archive_bytes)} limit")
    try:
        with zipfile.ZipFile(archive) as zf:
            _unpack_entries(zf, name, target, limits, notes)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise SubmissionError(f"{name} is not a readable zip archive ({exc})") from None
    except NotImplementedError as exc:  # an unsupported compression method
        raise SubmissionError(f"{name} uses a compression Python cannot read ({exc}); zip it again") from None
    except RuntimeError as exc:  # a password-protected entry
        raise SubmissionError(f"{name} cannot be unpacked ({exc}); zip it again without a password") from None
    except OSError as exc:  # e.g. an entry named like a folder another entry needs
        raise SubmissionError(f"{name} cannot be unpacked ({exc.strerror or exc})") from None


def _unpack_entries(zf: zipfile.ZipFile, name: str, target: Path, limits: Limits, notes: list[str]) -> None:
    count = total = 0
    for info in zf.infolist():
        path = info.filename.replace("\\", "/")
        parts = PurePosixPath(path).parts
        if path.startswith("/") or _DRIVE.match(path) or ".." in parts:
            raise SubmissionError(f"{name} holds the unsafe path {info.filename!r}, which points outside the archive; "
                                  "refusing to unpack it")
        if path.endswith("/") or not parts or parts[0] == "__MACOSX" or "__pycache__" in parts:
            continue
        if len(parts) > MAX_ENTRY_DEPTH:
            raise SubmissionError(f"{name} holds a file {len(parts) - 1} folders deep; zip only the micrograd folder")
        if any(part.startswith(".") for part in parts) or not path.lower().endswith(_WANTED):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            notes.append(f"skipped {path} in {name}: it is a symbolic link")
            continue
        count += 1
        if count > limits.max_archive_files:
            raise SubmissionError(f"{name} holds more than {limits.max_archive_files} .py and .ipynb files; "
                                  "zip only the micrograd folder")
        per_file = limits.max_notebook_bytes if path.lower().endswith(".ipynb") else limits.max_file_bytes
        destination = target.joinpath(*parts)
        if not destination.resolve().is_relative_to(target.resolve()):
            raise SubmissionError(f"{name} holds the unsafe path {info.filename!r}; refusing to unpack it")
        destination.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with zf.open(info) as source, destination.open("wb") as sink:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                total += len(chunk)
                if written > per_file:
                    raise SubmissionError(f"{path} in {name} is over the {human_size(per_file)} limit for one file")
                if total > limits.max_archive_bytes:
                    raise SubmissionError(f"{name} unpacks to more than {human_size(limits.max_archive_bytes)}")
                sink.write(chunk)
