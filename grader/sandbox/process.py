"""Start the sandboxed child, feed it the probes, and collect its answers against the clock.

The child streams `{"start": i}` before each probe, so a probe that hangs is known by number: the
child's whole process group is killed, that probe is recorded as timed out, and a fresh child resumes
with the next probe. Whatever happens, every probe of the plan gets a result, and no process is left.
What the child writes is checked as the untrusted data it is (see protocol.py) before anything is kept.
"""
from __future__ import annotations

import atexit
import json
import os
import platform
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.paths import CHECKOUT_DIR
from grader.protocol import MAX_LINE_BYTES, BadRecord, parse_line, relocated, validate_record
from grader.sandbox import isolation
from grader.sandbox.bounds import JobBounds
from grader.sandbox.cleanup import chown_tree, prune, remove_tree
from grader.sandbox.isolation import Isolation

PACKAGE_DIR = Path(__file__).resolve().parent.parent
RUNTIME_FILES = {"zygote.py": Path(__file__).with_name("zygote.py"), "child.py": Path(__file__).with_name("child.py"),
                 "runners.py": PACKAGE_DIR / "probes" / "runners.py", "shape.py": PACKAGE_DIR / "probes" / "shape.py",
                 "protocol.py": PACKAGE_DIR / "protocol.py", "contract.py": PACKAGE_DIR / "contract.py"}
OUTPUT_EXCERPT = 4000


@dataclass(frozen=True)
class JobLimits:
    """The limits a submission's jobs run under (the sandbox's; the loader's bounds on what it reads are
    grader.load's `Limits`). A job is one child the sandbox server forks, with every process it starts.
    `memory_bytes` bounds each process's address space, and all of a job's processes together where a cgroup
    can hold them (see bounds.py); `cpu_seconds` and `file_bytes` bound each job too. `probe_seconds` bounds
    one probe; `total_seconds` a whole submission, both its children (engine and train) and every restarted
    child of them together (the caller passes one `deadline` to each child it runs)."""
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
    loaded: bool = False  # the child reported the code loaded (imported, or failed to import)
    output: str = ""
    timed_out: list[int] = field(default_factory=list)
    refused: dict[int | None, str] = field(default_factory=dict)  # probe (None: between probes) -> why

    def refuse(self, probe: int | None, reason: str) -> None:
        """Remember the first malformed record seen while `probe` ran: that probe gets no answer."""
        self.refused.setdefault(probe, reason)


def library_paths() -> list[str]:
    """The standard library and installed packages (numpy for students who use it), without site hooks."""
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    paths = [sysconfig.get_paths()[name] for name in names]
    dynload = os.path.join(sysconfig.get_paths()["stdlib"], "lib-dynload")
    zipped = os.path.join(sys.base_prefix, "lib", f"python{sys.version_info.major}{sys.version_info.minor}.zip")
    return list(dict.fromkeys(paths + [dynload, zipped]))




def hidden_dirs() -> list[str]:
    """The grader package and, in a checkout of the project, its reference, tests, examples and assignments:
    never in a job's root. Only the package can lie inside a folder the root holds (site-packages, where
    it is installed), and there it is covered by an empty read-only folder."""
    package = Path(__file__).resolve().parent.parent
    names = ("reference", "tests", "examples", "assignments") if CHECKOUT_DIR else ()
    return [str(folder) for folder in (package, *(CHECKOUT_DIR / name for name in names)) if folder.is_dir()]


# `-I` would imply `-E`, and so ignore PYTHONHASHSEED: the flags it stands for but that one, with an
# environment the grader writes in full (no PYTHON* variable of its own reaches the server).
INTERPRETER_FLAGS = ("-s", "-P", "-S")
SERVER_ENV = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}
# Each grading process's jobs run as a user id of their own (as root), so jobs of different workers
# cannot read, signal or trace each other, and RLIMIT_NPROC binds.
# As many digits for every grading process's ids (up to Linux's largest pid), so the records that carry
# an id take the same bytes in every job, and a job's memory layout is the same from one grading to the next.
JOB_UID_BASE = 100_000_000
USERS_PER_GRADER = 64  # the ids of one grading process's servers
JOB_PROCESSES = 64
# What a job may write in its staged copy, the runtime files beside it included (the loader stages at most
# 50 MB of an archive).
JOB_DISK_BYTES = 128 * 1024**2
START_SECONDS = 30


# The length of every sandbox folder's path: a job's paths (its staged copy, its modules' file names) then
# take the same memory wherever the grading runs, alone or in a batch's folder. Long enough for a temporary
# folder nested a few levels deep (a test's, a CI runner's) plus the batch's own folder inside it.
SANDBOX_PATH_LENGTH = 120
SANDBOX_PARENT = "MICROGRADE_SANDBOX_PARENT"  # set in a batch's workers: the folder sandbox folders go in
SANDBOX_PREFIX = "micrograde-sandbox-"


def sandbox_folder() -> Path:
    """A new private folder in the temporary folder (a batch worker's: the run's, where its own is nested
    one level deeper), its path SANDBOX_PATH_LENGTH characters long (or longer, where the temporary
    folder's own path leaves too few for 8 random ones)."""
    parent = Path(os.environ.get(SANDBOX_PARENT) or tempfile.gettempdir()).resolve()
    fill = max(8, SANDBOX_PATH_LENGTH - len(str(parent / SANDBOX_PREFIX)))
    while True:
        folder = parent / (SANDBOX_PREFIX + secrets.token_hex(fill)[:fill])
        try:
            folder.mkdir(mode=0o700)
            return folder
        except FileExistsError:
            continue


def padded(message: dict, block: int = 4096) -> bytes:
    """`message` as JSON, padded with spaces to a whole number of blocks: what the server and a job read
    then takes the same bytes whatever its numbers (a descriptor's, a key's), so their memory is laid out
    the same from one grading to the next."""
    data = json.dumps(message).encode()
    return data + b" " * (-len(data) % block)


def fixed_layout() -> tuple[str, ...]:
    """The command that starts the server with address-space randomisation off (util-linux's setarch), so
    that every job's objects lie where they lay last time: an engine whose behaviour follows `id()` or
    the order of a set of nodes gets one verdict, however often it is graded."""
    setarch = shutil.which("setarch")
    return (setarch, platform.machine(), "--addr-no-randomize") if sys.platform == "linux" and setarch else ()


def isolations() -> tuple[Isolation, ...]:
    """The isolations that work here, best first (see isolation.py); tests replace this to force one."""
    return isolation.available()


def prepare_runtime(folder: Path) -> Path:
    runtime = folder / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    for name, source in RUNTIME_FILES.items():
        shutil.copyfile(source, runtime / name)
    return runtime


KEPT_PROBE_LISTS = 8  # probe lists the server holds at once (a submission uses two: engine and train)


class SandboxError(RuntimeError):
    """The sandbox server could not be started or stopped answering."""


class Sandbox:
    """This process's sandbox server (see zygote.py), started on first use and stopped at exit."""

    def __init__(self, number: int = 0) -> None:
        self.owner = os.getpid()
        self.known: dict[int, tuple[int, Sequence[dict]]] = {}
        self.sent = 0
        self.handed: set[Path] = set()
        refused = isolation.refusal() if not isolations() else None
        if refused:
            raise SandboxError(refused)
        self.base = sandbox_folder()
        self.bounds = JobBounds.make(f"micrograde-{os.getpid()}-{number}", self.base, JOB_DISK_BYTES)
        self.base.chmod(0o711)
        runtime = prepare_runtime(self.base)
        reasons = []
        # The best isolation that starts here; never a weaker one than those that work (see isolation.py).
        for way in isolations():
            reason = self._start(runtime, way, number)
            if reason is None:
                self.isolation = way
                return
            reasons.append(f"{way.mode}: {reason}")
        self.bounds.close()
        remove_tree(self.base)
        raise SandboxError("the sandbox server did not start (" + "; ".join(reasons) + ")")

    def _start(self, runtime: Path, way: Isolation, number: int) -> str | None:
        """Start the server under `way`; None if it is ready, else why not."""
        # As root, jobs run as a user of their own (the server refuses if it cannot make that work).
        uid = JOB_UID_BASE + os.getpid() * USERS_PER_GRADER + number % USERS_PER_GRADER if way.job_user else None
        reach = [*library_paths(), str(self.base)]
        self.control, theirs = socket.socketpair()
        bootstrap = (f"import sys; sys.path[:] = {[str(runtime), *library_paths()]!r}; "
                     f"sys.argv = ['zygote.py']; exec(open({str(runtime / 'zygote.py')!r}).read(), "
                     "{'__name__': '__main__', '__file__': 'zygote.py'})")
        prefix = (*self.bounds.prefix(), *fixed_layout(),
                  *way.prefix(self.base, isolation.runtime_paths(), hidden_dirs()))
        self.process = subprocess.Popen(
            [*prefix, isolation.interpreter(), *INTERPRETER_FLAGS, "-c", bootstrap], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=self.base, env=SERVER_ENV,
            pass_fds=(theirs.fileno(),), start_new_session=True)
        allowed = isolation.allowlist(self.base, isolation.runtime_paths(), hidden_dirs())
        setup = {"control": theirs.fileno(), "base": str(self.base), "mode": way.mode, "uid": uid, "reach": reach,
                 "allow": allowed, "way": isolation.folders_on_the_way(allowed), "capabilities": way.capabilities()}
        theirs.close()
        try:
            self.process.stdin.write(padded(setup) + b"\n")
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([self.process.stdout], [], [], START_SECONDS)
        word, _, said = (self.process.stdout.readline() if ready else b"").partition(b" ")
        if word == b"ready":
            self.uid = json.loads(said)
            return None
        self.control.close()
        kill_group(self.process)
        return json.loads(said) if word == b"refused" else "no answer"

    def request(self, message: dict, fds: list[int] = ()) -> dict:
        try:
            socket.send_fds(self.control, [padded(message)], list(fds))
            reply = self.control.recv(1 << 16)
        except OSError as exc:
            raise SandboxError(f"the sandbox server stopped answering ({exc})") from None
        if not reply:
            raise SandboxError("the sandbox server stopped answering")
        return json.loads(reply)

    def probes_key(self, probes: Sequence[dict]) -> int:
        """The server's key for `probes`, sending them the first time this list object is used. Keys are
        reused once KEPT_PROBE_LISTS lists are held (each submission of an instructor's grading has plans of
        its own), so neither this process nor the server grows with the number of submissions."""
        if id(probes) not in self.known:
            key = self.sent % KEPT_PROBE_LISTS
            self.sent += 1
            self.known = {k: v for k, v in self.known.items() if v[0] != key}
            read, write = os.pipe()
            writer = threading.Thread(target=_write_and_close, args=(write, json.dumps(probes).encode()))
            writer.start()
            try:
                self.request({"probes": key}, [read])
            finally:
                os.close(read)
                writer.join()
            self.known[id(probes)] = (key, probes)  # holding the list keeps its id from being reused
        return self.known[id(probes)][0]

    def workdir(self) -> Path:
        """A private folder for one submission, inside the folder the server can see."""
        return Path(tempfile.mkdtemp(dir=self.base, prefix="job-"))

    def hand_over(self, staged: Path) -> None:
        """Make the staged copy the job user's own (as root), once, and the way to it passable."""
        if self.uid is None or staged in self.handed:
            return
        for folder in staged.parents:
            if folder == self.base:
                break
            folder.chmod(0o711)
        chown_tree(staged, self.uid)
        staged.chmod(0o700)  # the job user's alone
        self.handed.add(staged)

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def close(self) -> None:
        self.control.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_group(self.process)
        self.bounds.close()
        remove_tree(self.base)


_local = threading.local()  # one server per thread: a server runs one job at a time
_servers: list[Sandbox] = []
_starting: list[dict] = []  # servers started early, adopted by sandbox() or not (yet)


def start_early() -> None:
    """Start this thread's server in the background, so that it gets ready while this process imports the
    rest of the grader (a student waits for both on every `check`); `sandbox()` then waits for it and
    raises what its start raised. The starting thread lives as long as the process: bubblewrap's
    --die-with-parent is bound to the thread that started it."""
    if getattr(_local, "server", None) is None and getattr(_local, "starting", None) is None:
        number = len(_servers)
        _local.starting = starting = {"ready": threading.Event()}
        _starting.append(starting)

        def start() -> None:
            try:
                starting["server"] = Sandbox(number)
            except BaseException as exc:  # noqa: BLE001 - raised again by sandbox(), in the caller's thread
                starting["raised"] = exc
            starting["ready"].set()
            threading.Event().wait()
        threading.Thread(target=start, daemon=True).start()


def _started() -> Sandbox:
    starting, _local.starting = _local.starting, None
    _starting.remove(starting)
    starting["ready"].wait()
    if "raised" in starting:
        raise starting["raised"]
    _servers.append(starting["server"])
    return starting["server"]


def sandbox() -> Sandbox:
    """The running server of this thread, (re)started when needed."""
    if getattr(_local, "starting", None) is not None:
        _local.server = _started()
    server = getattr(_local, "server", None)
    if server is None or not server.alive():
        if server is not None and server.owner == os.getpid():
            server.close()
        server = _local.server = Sandbox(len(_servers))
        _servers.append(server)
    return server


@atexit.register
def _stop() -> None:
    for starting in _starting:  # a process that ends before it used the server it started early
        if starting["ready"].wait(START_SECONDS) and "server" in starting:
            _servers.append(starting["server"])
    for server in _servers:
        if server.owner == os.getpid():
            server.close()


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def run_child(staged: Path, staged_as: str, probes: Sequence[dict], *, kit_source: str | None = None,
              limits: JobLimits = JobLimits(), strict: bool = False, meanwhile: Callable[[], object] | None = None,
              deadline: float | None = None) -> ChildRun:
    """Run `probes` on the staged submission in as many children as it takes; see the module docstring.
    `meanwhile` is called once the first child has its work, before its answers are read: this process's
    own work done while the child runs (its answers wait in the pipe). `deadline` (a `time.monotonic()`
    instant, by default `limits.total_seconds` from now) is the submission's, kept here and nowhere else."""
    server = sandbox()
    staged = staged.resolve()
    if server.base not in staged.parents:
        raise SandboxError(f"{staged} is not in the sandbox's folder; stage it in sandbox().workdir()")
    server.hand_over(staged)
    server.bounds.bind(limits.memory_bytes, JOB_PROCESSES)
    key = server.probes_key(probes)
    run = ChildRun()
    deadline = time.monotonic() + limits.total_seconds if deadline is None else deadline
    start = 0
    outputs = []
    for _ in range(limits.restarts + 1):
        if start >= len(probes) or time.monotonic() >= deadline:
            break
        start, output = _one_child(server, staged, staged_as, probes, key, start, kit_source, limits, deadline, run,
                                   strict, meanwhile)
        meanwhile = None
        outputs.append(output)
    charge_refused(run)
    if server.bounds.went_over():
        sandbox_note(run, f"the job's processes together went over {limits.memory_bytes // 1024**2} MiB of memory, "
                          "and the kernel stopped one of them")
    if server.isolation.note():
        sandbox_note(run, server.isolation.note())
    for index in range(len(probes)):
        if index not in run.results:
            run.results[index] = unanswered(index in run.timed_out)
    run.output = "".join(outputs)[:OUTPUT_EXCERPT]
    prune(staged)  # folders the job nested deeper than any the loader makes
    return run


def sandbox_note(run: ChildRun, note: str) -> None:
    """A line the report's notes show about how the job ran, beside what loading the code found."""
    load = run.load or {"found": [], "problems": []}
    run.load = {**load, "problems": [*load["problems"], {"module": "the sandbox", "note": note}]}


def unanswered(timed_out: bool = False) -> dict:
    """The result of a probe no child answered: it ran out of time, or no child got to it."""
    return {"error": {"kind": "timeout" if timed_out else "no_answer", "type": "Timeout", "message": "",
                      "where": None}}


def charge_refused(run: ChildRun) -> None:
    """A probe during which the child wrote a malformed record has no answer but that, and the load report
    names the first such record, so the report says what happened whichever probe it fell in."""
    for index, reason in run.refused.items():
        if index is not None:
            run.results[index] = {"error": {"kind": "crash", "type": "MalformedRecord",
                                            "message": f"the child wrote {reason}", "where": None}}
    if run.refused:
        first = next(iter(run.refused.values()))
        load = run.load or {"found": [], "problems": []}
        problem = {"module": "the results pipe", "type": "MalformedRecord", "message": f"the child wrote {first}"}
        run.load = {**load, "problems": [*load["problems"][:19], problem]}


def _one_child(server, staged, staged_as, probes, key, start, kit_source, limits, deadline, run, strict, meanwhile):
    """One forked child from probe `start` on; returns where the next child should resume, and the output."""
    config_read, config_write = os.pipe()
    results_read, results_write = os.pipe()
    jail = str(staged.parent) if server.isolation.mode == "chroot" else None
    job = {"cwd": str(staged), "uid": server.uid, "jail": jail, "probes": key,
           "limits": {"cpu": limits.cpu_seconds, "memory": limits.memory_bytes, "file": limits.file_bytes,
                      "nproc": JOB_PROCESSES if server.uid is not None else None}}
    with tempfile.TemporaryFile() as output:
        try:
            pid = server.request({"run": job}, [config_read, results_write, output.fileno()])["pid"]
        finally:
            os.close(config_read)
            os.close(results_write)
        config = {"staged": str(staged), "kind": staged_as, "skip": start, "kit_source": kit_source,
                  "strict": strict}
        try:
            with os.fdopen(config_write, "wb") as pipe:
                pipe.write(padded(config))
            if meanwhile is not None:
                meanwhile()
            seen_as = ("/" + staged.name, str(staged)) if jail else None
            next_start = _collect(results_read, probes, start, limits, deadline, run, seen_as)
        except BrokenPipeError:
            next_start = len(probes)
        finally:
            os.close(results_read)
            server.request({"end": pid})
        output.seek(0)
        return next_start, output.read(OUTPUT_EXCERPT).decode("utf-8", "replace")


def _write_and_close(fd: int, data: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
    except BrokenPipeError:
        pass


def _collect(read_fd, probes, start, limits, deadline, run, seen_as=None) -> int:
    """Read result lines until the child finishes, dies, or overruns a probe; return where to resume.

    Lines are read with a bound: one longer than MAX_LINE_BYTES is dropped as it arrives, never held.
    `seen_as` is (the staged folder as a chrooted child names it, its real path), to put paths right."""
    lines = LineReader(read_fd)
    current, last_started = None, start - 1
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
        received, ended = lines.read()
        for line in received:
            try:
                record = validate_record(parse_line(line), len(probes), start)
            except BadRecord as exc:
                run.refuse(current, str(exc))
                continue
            if seen_as is not None:
                record = relocated(record, *seen_as)
            if record.kind == "load":
                run.load, run.loaded = run.load or record.value, True
            elif record.kind == "start":
                # Each probe is started once, in order, after the last one answered: a `start` can never
                # buy a probe that is under way more time.
                if current is not None or record.index <= last_started:
                    run.refuse(current, f"a `start` record for probe {record.index} out of turn")
                    continue
                current = last_started = record.index
                probe_deadline = time.monotonic() + limits.probe_seconds
            elif record.kind == "result":
                run.results[record.index] = record.value
                current = None
            else:
                return len(probes)
        if ended:
            return len(probes) if current is None else current + 1


class LineReader:
    """Lines from a pipe, none longer than MAX_LINE_BYTES kept: the rest of an over-long line is skipped
    as it comes, and the line is handed on as its first MAX_LINE_BYTES + 1 bytes (refused by its length)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.partial = bytearray()
        self.skipping = False

    def read(self) -> tuple[list[bytes], bool]:
        """The lines completed by one read, and whether the pipe has ended."""
        chunk = os.read(self.fd, 1 << 16)
        *complete, tail = chunk.split(b"\n")
        lines = [line for piece in complete for line in self._take(piece, complete=True)]
        lines += self._take(tail, complete=False)
        return [line for line in lines if line], not chunk

    def _take(self, piece: bytes, complete: bool) -> list[bytes]:
        found = []
        if not self.skipping:
            self.partial += piece
            if len(self.partial) > MAX_LINE_BYTES:
                found.append(bytes(self.partial[:MAX_LINE_BYTES + 1]))
                self.partial.clear()
                self.skipping = True
        if complete:
            if not self.skipping:
                found.append(bytes(self.partial))
            self.partial.clear()
            self.skipping = False
        return found
