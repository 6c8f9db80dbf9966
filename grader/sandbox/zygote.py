"""The sandbox server: one warm Python that forks a fresh, confined child for every job.

Started once per grading process by `grader.sandbox.process` (as `python -s -P -S` with PYTHONHASHSEED=0,
in the isolation `grader.sandbox.isolation` chose: bubblewrap's allowlisted root, the same root built here
in an `unshare` namespace, or a chroot per job), it imports the child's code once and then forks, so a
job costs a fork instead of an interpreter start. It never runs student code itself and never holds the
model kit: each job's configuration goes straight from the grader to the forked child through a pipe.

Protocol, over the Unix socket whose fd the setup line names (one message each way per request):
  {"run": {"cwd", "uid", "limits"}} + fds [config, results, output]  ->  {"pid": n}
  {"end": n}   kill the job's child and everything it started        ->  {"ended": n}
  {"probes": k} + fds [source]: keep a list of probes under key k     ->  {"kept": k}
A job's configuration names its probes by key: the plan is parsed once, and every child inherits it.
The server is the parent of every job's child and a child subreaper (or the namespace's init), so a
process that double-forks or calls `setsid()` is still reparented to it and killed at `end`.
"""
import ctypes
import ctypes.util
import gc
import json
import os
import resource
import shutil
import signal
import socket
import sys
import threading

import child

PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE = 36, 4
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
PROBES = {}  # probe lists by key, sent once and inherited by every child
LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def prctl(option, value):
    try:
        LIBC.prctl(option, value, 0, 0, 0)
    except AttributeError:  # not Linux: no subreaper, no dumpable flag
        pass


def encode(text):
    return None if text is None else text.encode()


def mount(source, target, fstype=None, flags=0, data=None):
    if LIBC.mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


# ---- the namespace's file system (root, in a fresh mount namespace only) ----------------------------

def closed_ancestor(path):
    """The first folder on the way to `path` that other users may not enter, or None."""
    parts = os.path.abspath(path).split(os.sep)[1:]
    for depth in range(1, len(parts)):
        folder = os.sep + os.path.join(*parts[:depth])
        if os.path.isdir(folder) and not os.stat(folder).st_mode & 0o001:
            return folder, parts[depth]
    return None


def allowlisted_root(allowed, way, base):
    """Build a root holding only the allowlist (see isolation.allowlist) and chroot into it, the way
    bubblewrap does: libraries and runtime read-only, the sandbox folder read-write, two devices, a fresh
    /tmp and /proc, and the folders on the way passable but not listable. Nothing else of the machine is
    in it. The sources are opened before /tmp is covered, since the sandbox folder usually lies in it."""
    sources = [*allowed["read"], *allowed["write"], *allowed["devices"]]
    fds = {path: os.open(path, os.O_PATH) for path in sources if os.path.exists(path)}
    mount("none", "/tmp", "tmpfs", 0, "size=1m,mode=700")
    root = "/tmp/root"
    os.mkdir(root)
    mount("none", root, "tmpfs", 0, "size=64m,mode=755")
    os.makedirs(root + "/tmp")
    mount("none", root + "/tmp", "tmpfs", 0, "size=256m,mode=1777")
    for folder in way:
        os.makedirs(root + folder, exist_ok=True)
        os.chmod(root + folder, 0o711)
    for link, target in allowed["links"].items():
        os.symlink(target, root + link)
    for path, fd in fds.items():
        target = root + path
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(target, exist_ok=True)
        else:
            open(target, "w").close()
        mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        if path in allowed["read"]:
            mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        os.close(fd)
    for folder in allowed["hide"]:
        mount("none", root + folder, "tmpfs", MS_RDONLY, "size=4k")
    os.makedirs(root + "/proc", exist_ok=True)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chroot(root)
    os.chdir(base)


# ---- chroot mode (root without namespaces): each job locked into the folder of its staged copy ---------

# Modules a submission may import, loaded by the server so that a chrooted child has them without files.
PRELOAD = ("math", "random", "collections", "itertools", "functools", "operator", "typing", "dataclasses",
           "copy", "numbers", "statistics", "heapq", "bisect", "enum", "abc", "weakref", "graphlib", "warnings",
           "time", "string", "re", "fractions", "decimal", "array", "types", "numpy", "numpy.random",
           "numpy.linalg")


def preload():
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001, S110 - a module that is not installed is simply not offered
            pass


def inside(path, jail):
    """`path` as the chrooted child sees it, for a jail (a folder holding it) or None."""
    return path if jail is None else "/" + os.path.relpath(path, jail)


# ---- jobs ----------------------------------------------------------------------------------------

def confine(job, fds):
    """In the forked child: a session of its own, limits, the job user, the staged folder, output fds."""
    config_fd, results_fd, output_fd = fds
    os.setsid()
    limits = job["limits"]
    for name, value in (("RLIMIT_CPU", limits["cpu"]), ("RLIMIT_AS", limits["memory"]),
                        ("RLIMIT_FSIZE", limits["file"]), ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", limits["nproc"])):
        if value is not None and hasattr(resource, name):
            hard = value + 5 if name == "RLIMIT_CPU" else value
            try:
                resource.setrlimit(getattr(resource, name), (value, hard))
            except (ValueError, OSError):  # a limit this system will not lower (RLIMIT_AS on macOS)
                pass
    devnull = os.open(os.devnull, os.O_RDONLY)  # before a chroot, which has no /dev
    jail = job.get("jail")
    if jail is not None:
        os.chroot(jail)
    if job["uid"] is not None:
        os.setgroups([])
        os.setgid(job["uid"])
        os.setuid(job["uid"])
    if os.getuid() == 0 or os.geteuid() == 0:
        os._exit(3)  # student code never runs as root
    os.chdir(inside(job["cwd"], jail))
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": inside(job["cwd"], jail), "PYTHONHASHSEED": "0"})
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.dup2(devnull, 0)
    for fd in (output_fd, devnull):
        os.close(fd)
    return config_fd, results_fd


def start_job(job, fds, control):
    pid = os.fork()
    if pid == 0:
        try:
            control.close()
            config_fd, results_fd = confine(job, fds)
            with os.fdopen(config_fd, encoding="utf-8") as source:
                config = json.load(source)
            config["probes"] = PROBES[config.pop("probes_key")]
            config["staged"] = inside(config["staged"], job.get("jail"))
            config["results_fd"] = results_fd
            # A deep topological sort recurses through Python frames; give it a large stack of its own.
            threading.stack_size(256 * 1024 * 1024)
            worker = threading.Thread(target=child.run, args=(config,))
            worker.start()
            worker.join()
        finally:
            child.flush_output()
            os._exit(0)
    for fd in fds:
        os.close(fd)
    return pid


def children():
    """Pids whose parent is this server (the job's child, and orphans reparented to us)."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as listing:  # the server has one thread
            return [int(pid) for pid in listing.read().split()]
    except OSError:
        pass  # a kernel without CONFIG_PROC_CHILDREN: scan every process instead
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    if int(stat.read().rsplit(b")", 1)[1].split()[1]) == me:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def kill(pids):
    for pid in pids:
        for signal_group in (os.killpg, os.kill):
            try:
                signal_group(pid, signal.SIGKILL)
            except OSError:
                pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def end_everything(job=None):
    """Kill the job's child with its process group, then every process below the server until none is
    left (a dying parent reparents its children to us, so repeat), and reap them. Without /proc (not
    Linux) only the job's process group can be found."""
    if job is not None:
        kill([job])
    while os.path.isdir("/proc/self"):
        reap()
        pids = children()
        if not pids:
            break
        kill(pids)
    reap()


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(control):
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 3)
        except OSError:
            return
        if not message:
            return
        request = json.loads(message)
        if "run" in request:
            reply = {"pid": start_job(request["run"], fds, control)}
        elif "probes" in request:
            with os.fdopen(fds[0], encoding="utf-8") as source:
                PROBES[request["probes"]] = json.load(source)
            reply = {"kept": request["probes"]}
        else:
            end_everything(request.get("end"))
            reply = {"ended": request.get("end")}
        control.sendall(json.dumps(reply).encode())


def refuse(reason):
    sys.stdout.write(f"refused {json.dumps(reason)}\n")
    sys.stdout.flush()
    os._exit(1)


def main():
    setup = json.loads(sys.stdin.readline())
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    uid, mode = setup.get("uid"), setup["mode"]
    closed = [found[0] for found in map(closed_ancestor, setup["reach"]) if found]
    if mode == "unshare":
        allowlisted_root(setup["allow"], setup["way"], setup["base"])
    elif mode == "chroot":
        preload()
    elif uid is not None and closed:
        # Without a mount namespace the way cannot be opened, and jobs never run as root: refuse.
        refuse(f"the Python installation lies under {closed[0]}, which the job user may not enter; "
               "install Python where other users can read it, or install bubblewrap")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # What the server holds lives as long as it: a job's garbage collections need not walk it again.
    gc.freeze()
    sys.stdout.write(f"ready {json.dumps(uid)}\n")  # the user id jobs run as
    sys.stdout.flush()
    control = socket.socket(fileno=setup["control"])
    try:
        serve(control)
    finally:
        end_everything()
        # The grader removes the folder when it stops the server; if the grader was killed, this is the
        # only clean-up there is (staged submissions included).
        shutil.rmtree(setup["base"], ignore_errors=True)


if __name__ == "__main__":
    main()
