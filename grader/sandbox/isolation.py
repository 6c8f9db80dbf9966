"""Which isolation the sandbox server runs in, chosen once per grading process, and why.

As root on Linux, best first:
  bwrap    bubblewrap builds the server a new root from an allowlist: the Python runtime read-only, the
           sandbox's own folder, /dev/null and /dev/urandom, a private /tmp and /proc; new PID, network,
           IPC and UTS namespaces. Nothing else of the machine exists in there.
  unshare  the project's own namespaces (PID, network, IPC, mount), and in them the same allowlisted root,
           built by the server itself.
  chroot   without namespaces (a container without CAP_SYS_ADMIN): each job is locked into the folder of its
           staged copy, with the modules a submission may import loaded before; no /proc, no other file;
           the network is still reachable.
Each of these runs jobs as a user id of their own, never as root. When none works, the grader refuses
unless the risk is accepted (`--unsafe-sandbox`, or MICROGRADE_UNSAFE_SANDBOX=1): then jobs still run as
a user of their own, on a machine they can read as that user may, and every report says so. Not as root,
jobs run as the grader's user with the same limits ("none"): the student's own machine.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# A comma-separated list of mechanisms to treat as unavailable ("bwrap,unshare,chroot"), so that the
# fallbacks can be tried on a machine where the better ones work.
DENY_ENV = "MICROGRADE_SANDBOX_DENY"
UNSAFE_ENV = "MICROGRADE_UNSAFE_SANDBOX"
UNSHARE = ("unshare", "--pid", "--fork", "--kill-child", "--net", "--ipc", "--mount", "--mount-proc")
SYSTEM_LIBRARIES = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/etc/ld.so.cache")
DEVICES = ("/dev/null", "/dev/urandom")
# The capabilities the server keeps inside bubblewrap, by number: to become each job's user (CAP_SETUID,
# CAP_SETGID) and to kill its processes (CAP_KILL). The server drops the others itself once it runs: had
# bubblewrap dropped them, the interpreter's start would count as a gain of privilege, and the kernel would
# turn address-space randomisation back on for it.
SERVER_CAPABILITIES = {"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7}
TRIAL_SECONDS = 20
SAFE_WAYS = ("install bubblewrap (apt-get install bubblewrap), allow unshare (CAP_SYS_ADMIN), "
             "or run as a user other than root")
UNSAFE_NOTE = ("graded with --unsafe-sandbox: student code ran without namespaces or chroot and could read "
               "whatever this machine lets any user read")


@dataclass(frozen=True)
class Isolation:
    """How jobs are confined: `mode` (bwrap, unshare, chroot, none), and why that one."""
    mode: str
    why: str
    job_user: bool
    unsafe: bool = False

    def prefix(self, base: Path, runtime_paths: list[str], hide: list[str]) -> tuple[str, ...]:
        """The command the server's interpreter is started under."""
        if self.mode == "bwrap":
            return bwrap_command(base, runtime_paths, hide)
        return UNSHARE if self.mode == "unshare" else ()

    def capabilities(self) -> list[int] | None:
        """The capabilities the server keeps (by number), or None to keep those it starts with."""
        return sorted(SERVER_CAPABILITIES.values()) if self.mode == "bwrap" else None

    def note(self) -> str | None:
        """What every report graded under this isolation must say, if anything."""
        return UNSAFE_NOTE if self.unsafe else None


def runtime_paths() -> list[str]:
    """What the server's Python needs to read: the interpreter, its installation's lib folder (libpython),
    and the library folders the child imports from (the standard library, and site-packages for students
    who use numpy). Not the whole installation prefix, which for a system Python is all of /usr."""
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    paths = [interpreter(), os.path.join(sys.base_prefix, "lib"), *(sysconfig.get_paths()[name] for name in names)]
    return [p for p in dict.fromkeys(os.path.realpath(p) for p in paths) if os.path.exists(p)]


def interpreter() -> str:
    """The real interpreter behind `sys.executable` (a virtual environment's is a link to it)."""
    return os.path.realpath(sys.executable)


def outermost(paths: list[str]) -> list[str]:
    """`paths` without those inside another of them (binding the outer one shows them already)."""
    return [p for p in paths if not any(p != q and Path(p).is_relative_to(q) for q in paths)]


def allowlist(base: Path, runtime: list[str], hide: list[str]) -> dict:
    """All that exists in a job's root, in bwrap and unshare modes alike: the system's shared libraries and
    the Python runtime read-only, the sandbox's folder read-write, /dev/null and /dev/urandom (and, made
    there, a private /tmp and /proc). `hide`: the grader's own package, where installed inside the runtime."""
    links = {path: os.readlink(path) for path in SYSTEM_LIBRARIES if os.path.islink(path)}
    libraries = [path for path in SYSTEM_LIBRARIES if os.path.exists(path) and path not in links]
    runtime = [path for path in outermost(runtime) if not any(Path(path).is_relative_to(lib) for lib in libraries)]
    return {"read": [*libraries, *runtime], "write": [str(base)], "devices": list(DEVICES), "links": links,
            "hide": [folder for folder in hide if any(Path(folder).is_relative_to(path) for path in runtime)]}


def folders_on_the_way(allowed: dict) -> list[str]:
    """The folders to make (passable, not listable) for the allowlist's paths, outermost first."""
    targets = [*allowed["read"], *allowed["write"], *allowed["devices"], *allowed["links"]]
    return sorted({str(folder) for path in targets for folder in Path(path).parents} - {"/", "/tmp"},
                  key=lambda folder: folder.count("/"))


def bwrap_command(base: Path, runtime: list[str], hide: list[str]) -> tuple[str, ...]:
    """bubblewrap's arguments for an allowlisted root: nothing but what these options name exists in it.
    The folders on the way to a bound one are made passable but not listable (0711), so that a Python
    installed under /root (closed to other users) is reachable by the job user and nothing else there is."""
    allowed = allowlist(base, runtime, hide)
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp"]
    for folder in folders_on_the_way(allowed):
        args += ["--perms", "0711", "--dir", folder]
    for link, target in allowed["links"].items():
        args += ["--symlink", target, link]
    for path in allowed["read"]:
        args += ["--ro-bind", path, path]
    for folder in allowed["hide"]:
        args += ["--tmpfs", folder, "--remount-ro", folder]
    for device in allowed["devices"]:
        args += ["--dev-bind", device, device]
    for path in allowed["write"]:
        args += ["--bind", path, path]
    return (*args, "--chdir", str(base), "--")


def denied(mechanism: str) -> bool:
    return mechanism in os.environ.get(DENY_ENV, "").replace(" ", "").split(",")


def unsafe_accepted() -> bool:
    return os.environ.get(UNSAFE_ENV, "") not in ("", "0")


def _runs(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=TRIAL_SECONDS, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def bwrap_works() -> bool:
    """Whether bubblewrap starts this Python in the allowlisted root."""
    if shutil.which("bwrap") is None:
        return False
    base = Path(tempfile.mkdtemp(prefix="micrograde-trial-")).resolve()
    try:
        return _runs([*bwrap_command(base, runtime_paths(), []), interpreter(), "-S", "-c", "pass"])
    finally:
        base.rmdir()


def chroot_works() -> bool:
    """Whether this process may chroot (CAP_SYS_CHROOT), tried in a forked child."""
    if not hasattr(os, "chroot"):
        return False
    folder = tempfile.mkdtemp(prefix="micrograde-trial-")
    try:
        pid = os.fork()
        if pid == 0:
            try:
                os.chroot(folder)
                os._exit(0)
            except BaseException:  # noqa: BLE001 - any failure means no
                os._exit(1)
        return os.waitpid(pid, 0)[1] == 0
    finally:
        os.rmdir(folder)


def bwrap_state() -> str | None:
    """None if bubblewrap works here, else why not."""
    if denied("bwrap"):
        return f"bubblewrap is turned off ({DENY_ENV})"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed"
    return None if bwrap_works() else "bubblewrap does not work here"


def unshare_state() -> str | None:
    """None if `unshare` makes PID, network, IPC and mount namespaces here, else why not."""
    if denied("unshare"):
        return f"unshare is turned off ({DENY_ENV})"
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    return None if _runs([*UNSHARE, "true"]) else "unshare is refused (no CAP_SYS_ADMIN)"


def chroot_state() -> str | None:
    if denied("chroot"):
        return f"chroot is turned off ({DENY_ENV})"
    return None if chroot_works() else "chroot is refused (no CAP_SYS_CHROOT)"


def candidates() -> list[Isolation]:
    """Every isolation that works here, best first; empty when the grader must refuse."""
    if os.name != "posix" or os.geteuid() != 0:
        return [Isolation("none", "not root: jobs run as this user, with limits and a subreaper", job_user=False)]
    found, missing = [], []
    trials = (("bwrap", bwrap_state), ("unshare", unshare_state), ("chroot", chroot_state))
    with ThreadPoolExecutor(len(trials)) as pool:  # each trial waits on a process of its own
        reasons = list(pool.map(lambda trial: trial[1](), trials))
    for (mode, _), reason in zip(trials, reasons):
        if reason is None:
            why = "; ".join(["root", *missing]) if missing else "root, and bubblewrap works here"
            found.append(Isolation(mode, why, job_user=True))
        missing.append(reason or f"{mode} works")
    if not found and unsafe_accepted() and closed_folder() is None:
        accepted = f"the risk accepted ({UNSAFE_ENV} or --unsafe-sandbox)"
        found.append(Isolation("none", "; ".join(["root", *missing, accepted]), job_user=True, unsafe=True))
    return found


_trying = threading.Lock()


@lru_cache(maxsize=1)
def _available() -> tuple[Isolation, ...]:
    return tuple(candidates())


def available() -> tuple[Isolation, ...]:
    """The isolations that work here, tried once per process (a server may be starting in another thread)."""
    with _trying:
        return _available()


available.cache_clear = _available.cache_clear


def closed_folder() -> str | None:
    """The first folder on the way to the Python runtime that other users may not enter, if any: without
    namespaces or chroot, a job user could not start there."""
    for path in [interpreter(), *runtime_paths()]:
        for folder in reversed(Path(path).parents):
            if folder != Path("/") and not os.stat(folder).st_mode & 0o001:
                return str(folder)
    return None


def refusal() -> str | None:
    """The one line to refuse grading with, when nothing here can keep student code from root's files."""
    if available():
        return None
    if unsafe_accepted():
        return (f"refusing to run student code as root: without a sandbox it would run as a user of its own, "
                f"who may not enter {closed_folder()}, where Python is installed; " + SAFE_WAYS)
    return ("refusing to run student code as root without a sandbox: " + SAFE_WAYS +
            "; or pass --unsafe-sandbox to accept that it may read every file readable by any user")
