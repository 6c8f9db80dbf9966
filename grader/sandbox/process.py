"""Start the sandboxed child, feed it the probes, and collect its answers against the clock.

The child streams `{"start": i}` before each probe, so a probe that hangs is known by number: the
child's whole process group is killed, that probe is recorded as timed out, and a fresh child resumes
with the next probe. Whatever happens, every probe of the plan gets a result, and no process is left.
"""
from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from grader.paths import REPO_DIR

RUNTIME_FILES = {"child.py": Path(__file__).with_name("child.py"),
                 "runners.py": Path(__file__).resolve().parent.parent / "probes" / "runners.py"}
OUTPUT_EXCERPT = 4000


@dataclass(frozen=True)
class Limits:
    """Per-child limits. `probe_seconds` bounds one probe; `total_seconds` a whole submission."""
    probe_seconds: float = 4.0
    total_seconds: float = 60.0
    cpu_seconds: int = 60
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 16 * 1024**2
    restarts: int = 8


@dataclass
class ChildRun:
    """What came back: per-probe results by index, the load report, and a bounded output excerpt."""
    results: dict[int, dict] = field(default_factory=dict)
    load: dict | None = None
    output: str = ""
    timed_out: list[int] = field(default_factory=list)


def library_paths() -> list[str]:
    """The standard library and installed packages (numpy for students who use it), without site hooks."""
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    paths = [sysconfig.get_paths()[name] for name in names]
    dynload = os.path.join(sysconfig.get_paths()["stdlib"], "lib-dynload")
    zipped = os.path.join(sys.base_prefix, "lib", f"python{sys.version_info.major}{sys.version_info.minor}.zip")
    return list(dict.fromkeys(paths + [dynload, zipped]))


# Mounted over in the child's mount namespace, so the reference and the tests cannot even be read.
HIDDEN_DIRS = tuple(str(REPO_DIR / name) for name in ("reference", "tests", "examples", "assignments", "grader"))
HIDE_THEN_EXEC = ('for d in "$@"; do [ "$d" = -- ] && break; mount -t tmpfs -o size=4k,ro none "$d" || exit 97; '
                  'shift; done; shift; exec "$@"')


@lru_cache(maxsize=1)
def namespace_prefix() -> tuple[str, ...]:
    """Run the child in fresh PID, network and mount namespaces where the grader is root on Linux: no
    network, the grader's own folders hidden, and when the child's namespace ends every process in it
    ends too, even one that called setsid(). Elsewhere (or if this fails) the child runs without them."""
    hidden = [d for d in HIDDEN_DIRS if os.path.isdir(d)]
    command = ("unshare", "--pid", "--fork", "--kill-child", "--net", "--mount", "sh", "-c", HIDE_THEN_EXEC,
               "hide", *hidden, "--")
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("unshare") is None:
        return ()
    try:
        works = subprocess.run([*command, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return ()
    return command if works else ()


def prepare_runtime(folder: Path) -> Path:
    runtime = folder / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    for name, source in RUNTIME_FILES.items():
        shutil.copyfile(source, runtime / name)
    return runtime


def _limit(limits: Limits):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def run_child(staged: Path, kind: str, probes: list[dict], workdir: Path, *, kit_source: str | None = None,
              limits: Limits = Limits()) -> ChildRun:
    """Run `probes` on the staged submission in as many children as it takes; see the module docstring."""
    staged, workdir = staged.resolve(), workdir.resolve()
    runtime = prepare_runtime(workdir)
    run = ChildRun()
    deadline = time.monotonic() + limits.total_seconds
    start = 0
    outputs = []
    for attempt in range(limits.restarts + 1):
        if start >= len(probes) or time.monotonic() >= deadline:
            break
        start, output = _one_child(staged, kind, probes, runtime, workdir / f"out-{attempt}.txt", start, kit_source,
                                   limits, deadline, run)
        outputs.append(output)
    for index in range(len(probes)):
        if index not in run.results:
            run.results[index] = {"error": {"kind": "timeout" if index in run.timed_out else "no_answer",
                                            "type": "Timeout", "message": "", "where": None}}
    run.output = "".join(outputs)[:OUTPUT_EXCERPT]
    return run


def _one_child(staged, kind, probes, runtime, output_path, start, kit_source, limits, deadline, run):
    read_fd, write_fd = os.pipe()
    config = {"staged": str(staged), "kind": kind, "probes": probes, "skip": start, "kit_source": kit_source,
              "results_fd": write_fd}
    bootstrap = (f"import sys; sys.path[:] = {[str(runtime), *library_paths()]!r}; "
                 f"sys.argv = ['child.py']; exec(open({str(runtime / 'child.py')!r}).read(), "
                 "{'__name__': '__main__', '__file__': 'child.py'})")
    with open(output_path, "wb") as output:
        process = subprocess.Popen(
            [*namespace_prefix(), sys.executable, "-I", "-S", "-c", bootstrap], stdin=subprocess.PIPE, stdout=output, stderr=output,
            cwd=staged, env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "HOME": str(staged)},
            pass_fds=(write_fd,), start_new_session=True, preexec_fn=_limit(limits))
    os.close(write_fd)
    try:
        process.stdin.write(json.dumps(config).encode())
        process.stdin.close()
    except BrokenPipeError:
        pass
    next_start = _collect(read_fd, probes, start, limits, deadline, run)
    kill_group(process)
    os.close(read_fd)
    return next_start, output_path.read_bytes()[:OUTPUT_EXCERPT].decode("utf-8", "replace")


def _collect(read_fd, probes, start, limits, deadline, run) -> int:
    """Read result lines until the child finishes, dies, or overruns a probe; return where to resume."""
    buffer = b""
    current = None
    probe_deadline = time.monotonic() + limits.probe_seconds * 3  # the first probe also pays for imports
    while True:
        timeout = min(probe_deadline, deadline) - time.monotonic()
        if timeout <= 0:
            if current is None:
                return len(probes)
            run.timed_out.append(current)
            return current + 1
        ready, _, _ = select.select([read_fd], [], [], timeout)
        if not ready:
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            return len(probes) if current is None else current + 1
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            record = _parse(line)
            if record is None:
                continue
            if "load" in record and run.load is None:
                run.load = record["load"]
            elif "start" in record:
                current = int(record["start"])
                probe_deadline = time.monotonic() + limits.probe_seconds
            elif "i" in record and isinstance(record.get("result"), dict):
                run.results[int(record["i"])] = record["result"]
                current = None
            elif record.get("done"):
                return len(probes)


def _parse(line: bytes) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
