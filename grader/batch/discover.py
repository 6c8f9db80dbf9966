"""Find the submissions in SUBMISSIONS and give each a stable student id.

Understood layouts (auto-detected, or forced with `--layout`):

- plain: every entry (a folder, .zip, .py or .ipynb) is one submission; id = name without extension.
- gradescope: `submission_metadata.yml` beside `submission_<n>/` folders; id = the submitter's `:sid:`
  from the metadata when present, else `<n>`.
- canvas: files named `<name>_<userid>_<submissionid>_<filename>` (with an optional `_late` after the
  name); id = `<name>_<userid>`; one student's files are grouped into one folder.
- classroom: GitHub Classroom clones `<assignment>-<username>/` (git repos, or any folders under a folder
  named `*-submissions`); id = `<username>`.

A .zip given as SUBMISSIONS is unpacked first, with the single-submission loader's bounds.
"""
from __future__ import annotations

import os
import re
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.load.archive import unpack_zip
from grader.load.submission import DEFAULT_LIMITS, SubmissionError

LAYOUTS = ("auto", "plain", "gradescope", "canvas", "classroom")
SUFFIXES = (".zip", ".py", ".ipynb")
GRADESCOPE_METADATA = "submission_metadata.yml"
CANVAS_NAME = re.compile(r"^(?P<name>[A-Za-z0-9-]+?)(?:_late)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$", re.IGNORECASE)
# Canvas appends "-1", "-2" to a resubmitted file's name.
CANVAS_RESUBMIT = re.compile(r"-\d+(?=\.[^.]+$)")
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
METADATA_MAX_BYTES = 5_000_000


class DiscoveryError(ValueError):
    """SUBMISSIONS cannot be read as a class of submissions; the message is one line for the user."""


@dataclass(frozen=True)
class Entry:
    """One student's submission: `path` (a folder or file) is what gets graded and hashed."""
    id: str
    path: Path

    @property
    def display(self) -> str:
        return self.path.name


def safe_id(raw: str) -> str:
    """A student id usable as a folder name on every system: no separators, no leading dots."""
    cleaned = _UNSAFE.sub("_", raw).strip("._") or "student"
    return cleaned[:100]


def unpack_class_zip(archive: Path, target: Path) -> Path:
    """Unpack a zip of a class folder into `target` with the loader's bounds; the folder to discover in."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        unpack_zip(archive, target, DEFAULT_LIMITS, [])
        _copy_gradescope_metadata(archive, target)
    except SubmissionError as exc:
        raise DiscoveryError(str(exc)) from None
    entries = [p for p in target.iterdir() if not p.name.startswith(".")]
    # A zip of one folder that holds the class: discover inside that folder.
    if len(entries) == 1 and entries[0].is_dir() and not (entries[0] / "micrograd").is_dir():
        return entries[0]
    return target


def _copy_gradescope_metadata(archive: Path, target: Path) -> None:
    """The loader's unpacker keeps only code; Gradescope's metadata file is needed for its ids."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            parts = info.filename.replace("\\", "/").split("/")
            if parts[-1] == GRADESCOPE_METADATA and len(parts) <= 2 and ".." not in parts \
                    and info.file_size <= METADATA_MAX_BYTES:
                destination = target.joinpath(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(zf.read(info)[:METADATA_MAX_BYTES])


def discover(root: Path, workdir: Path, layout: str = "auto") -> tuple[str, list[Entry]]:
    """The layout found and the submissions in `root`, sorted by id, ids unique.

    `workdir` is an empty folder the caller keeps for the run: grouped Canvas files are assembled there.
    """
    if not root.is_dir():
        raise DiscoveryError(f"{root} is not a folder or a .zip of submissions")
    if (root / "micrograd").is_dir() or (root / "engine.py").is_file():
        raise DiscoveryError(f"{root} looks like one submission, not a folder of them; "
                             "grade it with `micrograde check`")
    if layout == "auto":
        layout = detect_layout(root)
    finder = {"plain": _plain, "gradescope": _gradescope, "canvas": _canvas, "classroom": _classroom}[layout]
    raw = finder(root, workdir)
    return layout, _unique(raw)


def detect_layout(root: Path) -> str:
    visible = _visible(root)
    if (root / GRADESCOPE_METADATA).is_file() or (visible and all(
            p.is_dir() and p.name.startswith("submission_") for p in visible)):
        return "gradescope"
    files = [p for p in visible if p.is_file()]
    if files and all(CANVAS_NAME.match(p.name) for p in files) and not any(p.is_dir() for p in visible):
        return "canvas"
    folders = [p for p in visible if p.is_dir()]
    if len(folders) >= 2 and len(folders) == len(visible) and _classroom_prefix(folders) and (
            root.name.endswith("-submissions") or all((p / ".git").exists() for p in folders)):
        return "classroom"
    return "plain"


def _visible(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if not p.name.startswith((".", "__MACOSX", "__pycache__")))


def _plain(root: Path, _workdir: Path) -> list[tuple[str, Path]]:
    found = []
    for path in _visible(root):
        if path.is_dir():
            found.append((path.name, path))
        elif path.is_file() and path.suffix.lower() in SUFFIXES:
            found.append((path.stem, path))
    return found


def _gradescope(root: Path, _workdir: Path) -> list[tuple[str, Path]]:
    sids = _gradescope_sids(root / GRADESCOPE_METADATA)
    found = []
    for path in _visible(root):
        if path.is_dir() and path.name.startswith("submission_"):
            number = path.name.removeprefix("submission_")
            found.append((sids.get(path.name) or number, path))
    return found


def _gradescope_sids(metadata: Path) -> dict[str, str]:
    """Folder name → the first submitter's :sid:, read line by line (the file is Ruby-flavoured YAML)."""
    if not metadata.is_file() or metadata.stat().st_size > METADATA_MAX_BYTES:
        return {}
    sids: dict[str, str] = {}
    current = None
    for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
        top = re.match(r"^(submission_\w+):\s*$", line)
        if top:
            current = top.group(1)
            continue
        sid = re.match(r"^\s*:sid:\s*['\"]?([^'\"]+?)['\"]?\s*$", line)
        if sid and current and current not in sids and sid.group(1) not in ("", "~", "null"):
            sids[current] = sid.group(1)
    return sids


def _canvas(root: Path, workdir: Path) -> list[tuple[str, Path]]:
    groups: dict[str, list[tuple[str, Path]]] = {}
    for path in _visible(root):
        match = CANVAS_NAME.match(path.name) if path.is_file() else None
        if not match:
            continue
        original = CANVAS_RESUBMIT.sub("", match.group("file"))
        groups.setdefault(f"{match.group('name')}_{match.group('user')}", []).append((original, path))
    found = []
    for student, files in sorted(groups.items()):
        if len(files) == 1:
            found.append((student, files[0][1]))
            continue
        folder = workdir / "canvas" / safe_id(student)
        folder.mkdir(parents=True, exist_ok=True)
        for original, path in files:
            shutil.copyfile(path, folder / Path(original).name)
        found.append((student, folder))
    return found


def _classroom_prefix(folders: list[Path]) -> str:
    names = [p.name for p in folders]
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    cut = prefix.rfind("-")
    return prefix[:cut + 1] if cut > 0 else ""


def _classroom(root: Path, _workdir: Path) -> list[tuple[str, Path]]:
    folders = [p for p in _visible(root) if p.is_dir()]
    prefix = _classroom_prefix(folders) if len(folders) >= 2 else ""
    return [(p.name.removeprefix(prefix) or p.name, p) for p in folders]


def _unique(raw: list[tuple[str, Path]]) -> list[Entry]:
    """Safe, unique ids: a clash (alice/ and alice.py) keeps the extension on the later one."""
    entries: dict[str, Entry] = {}
    for student, path in sorted(raw, key=lambda item: (safe_id(item[0]), item[1].name)):
        sid = safe_id(student)
        if sid in entries:
            sid = safe_id(path.name)
        n = 2
        base = sid
        while sid in entries:
            sid, n = f"{base}-{n}", n + 1
        entries[sid] = Entry(sid, path)
    return sorted(entries.values(), key=lambda e: e.id)


def shard(entries: list[Entry], k: int, n: int) -> list[Entry]:
    """The K-th (1-based) of N slices: every N-th submission in id order, starting at the K-th."""
    return [e for i, e in enumerate(sorted(entries, key=lambda e: e.id)) if i % n == k - 1]


SHARD_FORMS = "K/N, slurm, k8s:N or k8s"
# Set on a Kubernetes Indexed Job's pods (with `completions`) when `--shard k8s` gives no count.
SHARD_COUNT_VARIABLE = "MICROGRADE_SHARD_COUNT"


def parse_shard(text: str, environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(K, N), 1 <= K <= N, from `--shard`: an explicit K/N (a CI matrix: `--shard ${{ matrix.shard }}/4`),
    `slurm` (this task of a Slurm job array), or `k8s:N` / `k8s` (this pod of a Kubernetes Indexed Job of N
    completions; N from MICROGRADE_SHARD_COUNT when not given)."""
    environ = os.environ if environ is None else environ
    spec = (text or "").strip()
    if spec.lower() == "slurm":
        return _slurm_shard(environ)
    if spec.lower().split(":", 1)[0] == "k8s":
        return _kubernetes_shard(spec, environ)
    match = re.fullmatch(r"(\d+)\s*/\s*(\d+)", spec)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise DiscoveryError(f"--shard must be one of {SHARD_FORMS} (K/N with 1 <= K <= N), not {text!r}")
    return int(match.group(1)), int(match.group(2))


def _whole(environ: Mapping[str, str], name: str, why: str, default: str | None = None) -> int:
    raw = environ.get(name, default)
    if raw is None:
        raise DiscoveryError(f"{why}, but {name} is not set")
    if not re.fullmatch(r"\s*\d+\s*", raw):
        raise DiscoveryError(f"{why}, but {name} is {raw[:40]!r}, not a whole number")
    return int(raw)


def _slurm_shard(environ: Mapping[str, str]) -> tuple[int, int]:
    """Slurm numbers array tasks from SLURM_ARRAY_TASK_MIN (often 0 or 1) in steps of SLURM_ARRAY_TASK_STEP."""
    why = "--shard slurm reads the job array's variables"
    task = _whole(environ, "SLURM_ARRAY_TASK_ID", why)
    count = _whole(environ, "SLURM_ARRAY_TASK_COUNT", why)
    first = _whole(environ, "SLURM_ARRAY_TASK_MIN", why, default="0")
    step = _whole(environ, "SLURM_ARRAY_TASK_STEP", why, default="1") or 1
    offset, off_step = divmod(task - first, step)
    if off_step or not 0 <= offset < count:
        raise DiscoveryError(f"--shard slurm: task {task} is not one of the {count} tasks from {first} "
                             f"in steps of {step}")
    return offset + 1, count


def _kubernetes_shard(spec: str, environ: Mapping[str, str]) -> tuple[int, int]:
    """JOB_COMPLETION_INDEX counts from 0; the count is the Job's `completions`, given by the caller."""
    why = "--shard k8s reads the Indexed Job's JOB_COMPLETION_INDEX"
    _, _, given = spec.partition(":")
    if given.strip():
        if not re.fullmatch(r"\s*\d+\s*", given) or int(given) < 1:
            raise DiscoveryError(f"--shard k8s:N needs a positive number of completions N, not {given[:40]!r}")
        count = int(given)
    else:
        count = _whole(environ, SHARD_COUNT_VARIABLE, "--shard k8s needs the number of completions "
                                                      "(--shard k8s:N)")
        if count < 1:
            raise DiscoveryError(f"{SHARD_COUNT_VARIABLE} must be a positive number of completions")
    index = _whole(environ, "JOB_COMPLETION_INDEX", why)
    if index >= count:
        raise DiscoveryError(f"--shard k8s: JOB_COMPLETION_INDEX {index} is not below the count {count}")
    return index + 1, count
