"""Find the submissions in SUBMISSIONS and give each a stable student id.

Understood layouts (auto-detected, or forced with `--layout`):

- plain: every entry (a folder, .zip, .py or .ipynb) is one submission; id = name without extension.
- gradescope: `submission_metadata.yml` beside `submission_<n>/` folders; id = the submitter's `:sid:`
  from the metadata when present, else `<n>`.
- canvas: files named `<name>_<userid>_<submissionid>_<filename>` (with an optional `_late` after the
  name); id = `<name>_<userid>`; one student's files are grouped into one folder.
- classroom: GitHub Classroom clones `<assignment>-<username>/` (git repos, or any folders under a folder
  named `*-submissions`); id = `<username>`.
- classroom50: what Classroom 50's `gh teacher download` writes: `<classroom>-<assignment>-<username>/`
  clones, each with the `result.json` of its latest submission, and `scores.csv` beside them; id = the
  `<username>` that scores.csv lists (else the folder's name past the clones' common prefix), never what a
  file inside the clone says.

Each entry also carries what the export says about the submission (`Entry.info`): the student's name and
email (Gradescope), the Canvas user id, and the submission time, taken from the export itself (Gradescope's
`:created_at:`, the Canvas file's time, Classroom 50's result `datetime` or submit tag, a git clone's last
commit date) so that it stays the same however often the class is graded again.

A .zip given as SUBMISSIONS is unpacked first, with the single-submission loader's bounds.
"""
from __future__ import annotations

import calendar
import csv
import io
import json
import os
import re
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from grader.batch.policy import POLICY_FILES
from grader.contract import ENGINE_FILE, PACKAGE
from grader.gitmeta import read_git
from grader.load.archive import unpack_zip
from grader.load.submission import DEFAULT_LIMITS, SubmissionError

LAYOUTS = ("auto", "plain", "gradescope", "canvas", "classroom", "classroom50")
SUFFIXES = (".zip", ".py", ".ipynb")
GRADESCOPE_METADATA = "submission_metadata.yml"
CANVAS_NAME = re.compile(r"^(?P<name>[A-Za-z0-9-]+?)(?:_late)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$", re.IGNORECASE)
# Canvas appends "-1", "-2" to a resubmitted file's name.
CANVAS_RESUBMIT = re.compile(r"-\d+(?=\.[^.]+$)")
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
METADATA_MAX_BYTES = 5_000_000
CLASSROOM50_RESULT = "result.json"
CLASSROOM50_SCORES = "scores.csv"
CLASSROOM50_SCHEMA = "classroom50/result/v1"
# submit/<UTC timestamp with dashes for colons>-<short sha>, the tag Classroom 50 grades.
SUBMIT_TAG = re.compile(r"^submit/(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z")
# Files of a clone that are not the student's code: a refreshed result must not make it "changed".
NOT_SUBMITTED = frozenset({CLASSROOM50_RESULT, "results.json", "release-body.md"})


class BatchInputError(ValueError):
    """What `micrograde grade` is given (SUBMISSIONS, --layout, --shard) cannot be used; the message is one
    line for the user."""


@dataclass(frozen=True)
class Entry:
    """One student's submission: `path` (a folder or file) is what gets graded and hashed. `info` holds what
    the export says about it: "name", "email", "canvas_id", "submitted_at" (UTC, `YYYY-MM-DDTHH:MM:SSZ`),
    "submitted_from" (where that time was read) and "late_mark" (the platform's own late flag)."""
    id: str
    path: Path
    info: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def display(self) -> str:
        return self.path.name


def safe_id(raw: str) -> str:
    """A student id usable as a folder name on every system: no separators, no leading dots."""
    cleaned = _UNSAFE.sub("_", raw).strip("._") or "student"
    return cleaned[:100]


def unpack_class_zip(archive: Path, target: Path) -> Path:
    """Unpack a zip of a class folder into `target` with the loader's bounds; the folder to find the submissions in."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        unpack_zip(archive, target, DEFAULT_LIMITS, [])
        _copy_gradescope_metadata(archive, target)
        _keep_entry_times(archive, target)
    except SubmissionError as exc:
        raise BatchInputError(str(exc)) from None
    entries = [p for p in target.iterdir() if not p.name.startswith(".")]
    # A zip of one folder that holds the class: the submissions are inside that folder.
    if len(entries) == 1 and entries[0].is_dir() and not (entries[0] / PACKAGE).is_dir():
        return entries[0]
    return target


def _keep_entry_times(archive: Path, target: Path) -> None:
    """Each unpacked file gets its zip entry's time (read as UTC), not the time of this run: a Canvas
    export's file time is when the file was submitted, and must be the same on every regrade."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            parts = info.filename.replace("\\", "/").split("/")
            file = target.joinpath(*parts) if ".." not in parts and not info.filename.startswith("/") else None
            if file is not None and file.is_file() and not file.is_symlink():
                stamp = calendar.timegm((*info.date_time, 0, 0, 0))
                os.utime(file, (stamp, stamp))


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


Found = tuple[str, Path, dict]


def find_submissions(root: Path, workdir: Path, layout: str = "auto",
                     exclude: tuple[Path, ...] = ()) -> tuple[str, list[Entry]]:
    """The layout found and the submissions in `root`, sorted by id, ids unique.

    `workdir` is an empty folder the caller keeps for the run: grouped Canvas files are assembled there.
    `exclude`: folders that are never submissions (the run's own output folder, when it sits inside `root`).
    A folder with no submissions in it is an error, not an empty class.
    """
    if not root.is_dir():
        raise BatchInputError(f"{root} is not a folder or a .zip of submissions")
    if (root / PACKAGE).is_dir() or (root / ENGINE_FILE).is_file():
        raise BatchInputError(f"{root} looks like one submission, not a folder of them; "
                              "grade it with `micrograde check`")
    skipped = {path.resolve() for path in exclude}
    if layout == "auto":
        layout = detect_layout(root, skipped)
    finder = {"plain": _plain, "gradescope": _gradescope, "canvas": _canvas, "classroom": _classroom,
              "classroom50": _classroom50}[layout]
    raw = [found for found in finder(root, workdir, skipped) if found[1].resolve() not in skipped]
    if not raw:
        raise BatchInputError(f"{root} holds no submissions (no folder, .zip, .py or .ipynb)")
    return layout, _unique(raw)


def detect_layout(root: Path, skipped: set[Path] = frozenset()) -> str:
    """The platform whose export `root` is. A layout is chosen only when it accounts for every visible entry
    (an export holds nothing else), so no hand-in, whatever its name or content, can make the others vanish
    by turning the folder into another platform's export."""
    visible = [p for p in _visible(root) if p.resolve() not in skipped]
    folders = [p for p in visible if p.is_dir()]
    # A course file left at the top (warned about, never read) is no hand-in and no platform's either.
    files = [p for p in visible if p.is_file() and p.name not in POLICY_FILES]
    code = [p for p in files if p.suffix.lower() in SUFFIXES]
    if folders and not code and all(_is_classroom50_clone(p) for p in folders):
        return "classroom50"
    if folders and not code and all(p.name.startswith("submission_") for p in folders):
        return "gradescope"
    if files and all(CANVAS_NAME.match(p.name) for p in files) and not folders:
        return "canvas"
    if len(folders) >= 2 and len(folders) == len(visible) and _classroom_prefix(folders) and (
            root.name.endswith("-submissions") or all((p / ".git").exists() for p in folders)):
        return "classroom"
    return "plain"


def _visible(root: Path) -> list[Path]:
    """The entries that may be submissions: not hidden (the course's own files live in a hidden folder). A
    name is never a reason to pass an entry over: a hand-in may be called anything."""
    return sorted(p for p in root.iterdir() if not p.name.startswith((".", "__MACOSX", "__pycache__")))


def _plain(root: Path, _workdir: Path, _skipped: set[Path]) -> list[Found]:
    found = []
    for path in _visible(root):
        if path.is_dir():
            found.append((path.name, path, _git_info(path)))
        elif path.is_file() and path.suffix.lower() in SUFFIXES:
            found.append((path.stem, path, {}))
    return found


def _gradescope(root: Path, _workdir: Path, _skipped: set[Path]) -> list[Found]:
    submitters = gradescope_metadata(root / GRADESCOPE_METADATA)
    found = []
    for path in _visible(root):
        if path.is_dir() and path.name.startswith("submission_"):
            number = path.name.removeprefix("submission_")
            info = submitters.get(path.name, {})
            found.append((info.pop("sid", None) or number, path, info))
    return found


def gradescope_metadata(metadata: Path) -> dict[str, dict]:
    """Folder name → the first submitter's "sid", "name" and "email", and the submission's "submitted_at",
    read line by line (the file is Ruby-flavoured YAML)."""
    if not metadata.is_file() or metadata.stat().st_size > METADATA_MAX_BYTES:
        return {}
    found: dict[str, dict] = {}
    current, submitter = None, 0
    for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
        top = re.match(r"^(submission_\w+):\s*$", line)
        if top:
            current, submitter = top.group(1), 0
            found[current] = {}
            continue
        if current is None:
            continue
        if re.match(r"^\s*-\s*:\w+:", line):
            submitter += 1  # each "- :key:" starts a submitter; only the first one names the row
        field_match = re.match(r"^\s*-?\s*:(sid|name|email|created_at):\s*['\"]?(.*?)['\"]?\s*$", line)
        if not field_match or field_match.group(2) in ("", "~", "null"):
            continue
        key, value = field_match.groups()
        if key == "created_at":
            if not line.startswith("  :created_at:"):
                continue  # an earlier submission's time, in its :history:
            when = utc_instant(value)
            if when:
                found[current].setdefault("submitted_at", when)
                found[current].setdefault("submitted_from", "Gradescope submission_metadata.yml")
        elif submitter <= 1:
            found[current].setdefault(key, value[:200])
    return found


def _canvas(root: Path, workdir: Path, _skipped: set[Path]) -> list[Found]:
    groups: dict[str, list[tuple[str, Path]]] = {}
    marks: dict[str, dict] = {}
    for path in _visible(root):
        match = CANVAS_NAME.match(path.name) if path.is_file() else None
        if not match:
            continue
        original = CANVAS_RESUBMIT.sub("", match.group("file"))
        student = f"{match.group('name')}_{match.group('user')}"
        groups.setdefault(student, []).append((original, path))
        info = marks.setdefault(student, {"canvas_id": match.group("user")})
        if "_late_" in path.name.lower():
            info["late_mark"] = "Canvas marked it late"
        # The export's file time is when Canvas received the file; the latest of a student's files counts.
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if when > info.get("submitted_at", ""):
            info.update(submitted_at=when, submitted_from="Canvas export file time")
    found = []
    for student, files in sorted(groups.items()):
        if len(files) == 1:
            found.append((student, files[0][1], marks[student]))
            continue
        folder = workdir / "canvas" / safe_id(student)
        folder.mkdir(parents=True, exist_ok=True)
        for original, path in files:
            shutil.copyfile(path, folder / Path(original).name)
        found.append((student, folder, marks[student]))
    return found


def _classroom_prefix(folders: list[Path]) -> str:
    names = [p.name for p in folders]
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    cut = prefix.rfind("-")
    return prefix[:cut + 1] if cut > 0 else ""


def _classroom(root: Path, _workdir: Path, skipped: set[Path]) -> list[Found]:
    folders = [p for p in _visible(root) if p.is_dir() and p.resolve() not in skipped]
    prefix = _classroom_prefix(folders) if len(folders) >= 2 else ""
    return [(p.name.removeprefix(prefix) or p.name, p, _git_info(p)) for p in folders]


def _is_classroom50_clone(folder: Path) -> bool:
    return _classroom50_result(folder) is not None


def _classroom50_result(folder: Path) -> dict | None:
    """The clone's result.json when it is a Classroom 50 result (small, parseable, the right schema)."""
    file = folder / CLASSROOM50_RESULT
    try:
        if not file.is_file() or file.stat().st_size > METADATA_MAX_BYTES:
            return None
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == CLASSROOM50_SCHEMA else None


def _classroom50(root: Path, _workdir: Path, skipped: set[Path]) -> list[Found]:
    folders = [p for p in _visible(root) if p.is_dir() and p.resolve() not in skipped]
    prefix = _classroom_prefix(folders) if len(folders) >= 2 else ""
    users = _classroom50_users(root / CLASSROOM50_SCORES)
    found = []
    for folder in folders:
        result = _classroom50_result(folder) or {}
        info = _git_info(folder)
        when = utc_instant(str(result.get("datetime", ""))) or submit_tag_instant(str(result.get("submission", "")))
        if when:
            info.update(submitted_at=when, submitted_from="Classroom 50 result.json datetime")
        # Who it is comes from the platform: the clone's folder, named by `gh teacher download`; never from
        # the result.json inside the clone, which the student's repository holds.
        user = next((name for name in users if folder.name.endswith(f"-{name}")), None)
        found.append((user or folder.name.removeprefix(prefix) or folder.name, folder, info))
    return found


def _classroom50_users(scores: Path) -> list[str]:
    """The usernames Classroom 50's scores.csv lists, longest first (so `ann-lee` wins over `lee`)."""
    try:
        if not scores.is_file() or scores.stat().st_size > METADATA_MAX_BYTES:
            return []
        rows = list(csv.DictReader(io.StringIO(scores.read_text(encoding="utf-8", errors="replace"))))
    except (OSError, csv.Error):
        return []
    names = {str(row.get(column) or "").strip() for row in rows for column in ("username", "github_username")}
    return sorted((name for name in names if re.fullmatch(r"[A-Za-z0-9-]{1,39}", name)), key=len, reverse=True)


def _git_info(folder: Path) -> dict:
    """A git clone's submission time: its latest submit/ tag (Classroom 50), else its last commit's date,
    read as data (`grader.gitmeta`): git is never run on a hand-in."""
    metadata = read_git(folder)
    for tag in sorted((tag for tag in metadata.tags if tag.startswith("submit/")), reverse=True):
        when = submit_tag_instant(tag)
        if when:
            return {"submitted_at": when, "submitted_from": f"git tag {tag[:80]}"}
    if metadata.commit_time is None:
        return {}
    when = datetime.fromtimestamp(metadata.commit_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"submitted_at": when, "submitted_from": "git commit date"}


def utc_instant(text: str) -> str | None:
    """An ISO-8601-ish time (with an offset, or UTC if none) as `YYYY-MM-DDTHH:MM:SSZ` in UTC, or None."""
    text = text.strip()
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$", text)
    if not match:
        return None
    day, clock, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z") else (zone if ":" in zone else f"{zone[:3]}:{zone[3:]}")
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{zone}")
    except ValueError:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def submit_tag_instant(tag: str) -> str | None:
    """The UTC instant in a Classroom 50 submit tag (`submit/2026-06-01T14-32-05Z-a1b2c3d`), or None."""
    match = SUBMIT_TAG.match(tag)
    return utc_instant(f"{match.group(1)}T{match.group(2)}:{match.group(3)}:{match.group(4)}Z") if match else None


def _unique(raw: list[Found]) -> list[Entry]:
    """Safe, unique ids: a clash (alice/ and alice.py) keeps the extension on the later one."""
    entries: dict[str, Entry] = {}
    for student, path, info in sorted(raw, key=lambda item: (safe_id(item[0]), item[1].name)):
        sid = safe_id(student)
        if sid in entries:
            sid = safe_id(path.name)
        n = 2
        base = sid
        while sid in entries:
            sid, n = f"{base}-{n}", n + 1
        entries[sid] = Entry(sid, path, dict(info))
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
        raise BatchInputError(f"--shard must be one of {SHARD_FORMS} (K/N with 1 <= K <= N), not {text!r}")
    return int(match.group(1)), int(match.group(2))


def _whole(environ: Mapping[str, str], name: str, why: str, default: str | None = None) -> int:
    raw = environ.get(name, default)
    if raw is None:
        raise BatchInputError(f"{why}, but {name} is not set")
    if not re.fullmatch(r"\s*\d+\s*", raw):
        raise BatchInputError(f"{why}, but {name} is {raw[:40]!r}, not a whole number")
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
        raise BatchInputError(f"--shard slurm: task {task} is not one of the {count} tasks from {first} "
                              f"in steps of {step}")
    return offset + 1, count


def _kubernetes_shard(spec: str, environ: Mapping[str, str]) -> tuple[int, int]:
    """JOB_COMPLETION_INDEX counts from 0; the count is the Job's `completions`, given by the caller."""
    why = "--shard k8s reads the Indexed Job's JOB_COMPLETION_INDEX"
    _, _, given = spec.partition(":")
    if given.strip():
        if not re.fullmatch(r"\s*\d+\s*", given) or int(given) < 1:
            raise BatchInputError(f"--shard k8s:N needs a positive number of completions N, not {given[:40]!r}")
        count = int(given)
    else:
        count = _whole(environ, SHARD_COUNT_VARIABLE, "--shard k8s needs the number of completions "
                                                      "(--shard k8s:N)")
        if count < 1:
            raise BatchInputError(f"{SHARD_COUNT_VARIABLE} must be a positive number of completions")
    index = _whole(environ, "JOB_COMPLETION_INDEX", why)
    if index >= count:
        raise BatchInputError(f"--shard k8s: JOB_COMPLETION_INDEX {index} is not below the count {count}")
    return index + 1, count
