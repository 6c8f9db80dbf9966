"""Bounds on a whole job, not one process: its memory and process count together (a cgroup), and what it
writes (its staged copy on a size-limited tmpfs).

A server runs one job at a time, so a cgroup around the server and the processes it forks is a bound per
job: the server's own share is small, and each job's child raises its own OOM score, so that the kernel's
OOM killer, when the job goes over, stops the job's processes and never the server. Both need root; where
the machine offers neither (a student's own machine, a container without a writable cgroup tree), each
process is still bound by its address-space limit and the job user's process cap, and `micrograde sandbox`
says so.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# What each controller's files are called in the two cgroup versions: (limit file, counter of OOM kills).
MEMORY_FILES = {1: ("memory.limit_in_bytes", "memory.oom_control"), 2: ("memory.max", "memory.events")}
# The server, bubblewrap and the shell that enters the cgroups, beside the job's own processes.
SERVER_PROCESSES = 8
MNT_DETACH = 2
MOUNT_SOURCE = "micrograde-"  # and the pid of the grading process, in the mount table
LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def own_cgroups() -> dict[str, str]:
    """This process's cgroup path per controller ("" for the unified hierarchy of cgroup v2)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            found[controller] = path
    return found


def _write(path: Path, text: str) -> bool:
    try:
        path.write_text(text)
        return True
    except OSError:
        return False


def make_group(controller: str, name: str | None) -> tuple[Path, int] | None:
    """A new cgroup for `controller` ("memory", "pids") below this process's own, as (folder, version), or
    None where this machine does not let us make one. With no name: the folder new ones are made in."""
    mine = own_cgroups()
    if controller in mine and (CGROUP_ROOT / controller).is_dir():  # version 1: a hierarchy per controller
        parent, version = CGROUP_ROOT / controller / mine[controller].lstrip("/"), 1
    elif "" in mine and (CGROUP_ROOT / "cgroup.controllers").is_file():
        parent, version = CGROUP_ROOT / mine[""].lstrip("/"), 2
        # Version 2 gives a child a controller only where its parent's subtree has it turned on.
        subtree = parent / "cgroup.subtree_control"
        try:
            enabled = subtree.read_text().split()
        except OSError:
            return None
        if controller not in enabled and not _write(subtree, f"+{controller}"):
            return None
    else:
        return None
    if name is None:
        return parent, version
    folder = parent / name
    try:
        folder.mkdir()
    except OSError:
        return None
    return folder, version


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def release_stale() -> None:
    """Unmount the tmpfs and remove the cgroups of grading processes that were killed before they could
    (their pid is in the names), so that none stays past the next grading."""
    try:
        mounts = [line.split() for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    except OSError:
        mounts = []
    for fields in mounts:
        source = fields[fields.index("-") + 2] if "-" in fields else ""
        owner = source.removeprefix(MOUNT_SOURCE)
        if source.startswith(MOUNT_SOURCE) and owner.isdigit() and not alive(int(owner)):
            point = fields[4].encode().decode("unicode_escape")
            if LIBC.umount2(point.encode(), MNT_DETACH) == 0:
                with contextlib.suppress(OSError):
                    os.rmdir(point)
    for controller in ("memory", "pids"):
        for folder, _ in filter(None, [make_group(controller, None)]):
            for group in folder.glob("micrograde-*-*"):
                owner = group.name.split("-")[1]
                if owner.isdigit() and not alive(int(owner)):
                    with contextlib.suppress(OSError):
                        group.rmdir()


@dataclass
class JobBounds:
    """One server's cgroups (memory, pids) and tmpfs, each present where the machine allows it."""
    groups: dict[str, tuple[Path, int]] = field(default_factory=dict)
    disk: Path | None = None
    oom_seen: int = 0

    @classmethod
    def make(cls, name: str, base: Path, disk_bytes: int) -> JobBounds:
        """As root: cgroups named `name`, and `base` made a tmpfs of `disk_bytes`."""
        bounds = cls()
        if os.name != "posix" or os.geteuid() != 0:
            return bounds
        release_stale()
        for controller in ("memory", "pids"):
            group = make_group(controller, name)
            if group is not None:
                bounds.groups[controller] = group
        options = f"size={disk_bytes},mode=0711".encode()
        if LIBC.mount(f"{MOUNT_SOURCE}{os.getpid()}".encode(), str(base).encode(), b"tmpfs", 0, options) == 0:
            bounds.disk = base
        return bounds

    def prefix(self) -> tuple[str, ...]:
        """The command that enters the cgroups before it runs the server's, so that everything the server
        forks is inside them from its first instruction."""
        if not self.groups:
            return ()
        procs = [str(folder / "cgroup.procs") for folder, _ in self.groups.values()]
        enter = 'for procs in "$@"; do [ "$procs" = -- ] && break; echo $$ > "$procs" || exit 125; shift; done; ' \
                'shift; exec "$@"'
        return ("/bin/sh", "-c", enter, "sh", *procs, "--")

    def bind(self, memory_bytes: int, processes: int) -> None:
        """The bounds of the next job: memory of all its processes together, and how many there may be."""
        if "memory" in self.groups:
            folder, version = self.groups["memory"]
            _write(folder / MEMORY_FILES[version][0], str(memory_bytes))
        if "pids" in self.groups:
            folder, _ = self.groups["pids"]
            _write(folder / "pids.max", str(processes + SERVER_PROCESSES))

    def went_over(self) -> bool:
        """Whether the kernel stopped a process for going over the memory bound since the last call."""
        if "memory" not in self.groups:
            return False
        folder, version = self.groups["memory"]
        try:
            counters = (folder / MEMORY_FILES[version][1]).read_text().split()
        except OSError:
            return False
        kills = int(counters[counters.index("oom_kill") + 1]) if "oom_kill" in counters else 0
        over, self.oom_seen = kills > self.oom_seen, kills
        return over

    def describe(self) -> list[str]:
        """What binds each job here, for `micrograde sandbox`."""
        lines = []
        if "memory" in self.groups:
            lines.append(f"memory of all a job's processes together: cgroup v{self.groups['memory'][1]}")
        else:
            lines.append("memory: no cgroup here, so each process's address space is bound, times the process cap")
        lines.append("processes: a cgroup" if "pids" in self.groups else "processes: the job user's process cap")
        lines.append("disk: the staged copy on a size-limited tmpfs" if self.disk else
                     "disk: per written file only (no tmpfs here)")
        return lines

    def close(self) -> None:
        """Remove what `make` made, once the server and its processes are gone."""
        if self.disk is not None:
            LIBC.umount2(str(self.disk).encode(), MNT_DETACH)
        for folder, _ in self.groups.values():
            for _ in range(50):  # the last processes may still be leaving
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
