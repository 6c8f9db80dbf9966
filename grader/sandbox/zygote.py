"""The sandbox server: one warm Python that forks a fresh, confined child for every job.

Started once per grading process by `grader.sandbox.process` (as `python -s -P -S` with PYTHONHASHSEED=0,
in the isolation `grader.sandbox.isolation` chose: bubblewrap's allowlisted root, the same root built here
in an `unshare` namespace, or a chroot per job), it imports the child's code once and then forks, so a
job costs a fork instead of an interpreter start. It never runs student code itself and never holds the
model kit: each job's configuration goes straight from the grader to the forked child through a pipe.

Protocol, over the Unix socket whose fd the setup line names (one message each way per request):
  {"run": {"cwd", "uid", "limits", "probes"}} + fds [config, results, output]  ->  {"pid": n}
  {"end": n}   kill the job's child and everything it started               ->  {"ended": n}
  {"probes": k} + fds [source]: keep a list of probes under key k            ->  {"kept": k}
A job names its probes by key: the list is sent once, and each job's child reads it from a file the
server keeps. Every job's child is forked from one spawner, forked before the server served anything, so
each starts from the same memory. The server is a child subreaper (or the namespace's init), so a job's
child and whatever it starts, double-forked or in a session of its own, are reparented to it and killed
at `end`.
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
import tempfile
import threading
import time

import child

PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 36, 4, 24, 47, 4
CAPABILITY_VERSION_3 = 0x20080522
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
PROBES = {}  # probe lists by key: a file of each list's JSON, sent once and handed to every job of it
SPAWNER = None  # (pid, its "go" pipe, the socket its children take their jobs from), where there is one
JOB_UID = None  # the user id every job of this server runs as (None: the server's own)
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


def keep_only(capabilities):
    """Drop every capability but `capabilities` (numbers) from the bounding set, the ambient set and what
    this process holds, before anything else runs."""
    with open("/proc/sys/kernel/cap_last_cap") as last:
        every = range(int(last.read()) + 1)
    for capability in every:
        if capability not in capabilities and LIBC.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            refuse(f"could not drop capability {capability}: {os.strerror(ctypes.get_errno())}")
    LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    mask = sum(1 << capability for capability in capabilities)
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)(mask, mask, 0, 0, 0, 0)  # effective, permitted, inheritable; twice 32 bits
    if LIBC.capset(header, data) != 0:
        refuse(f"could not drop capabilities: {os.strerror(ctypes.get_errno())}")


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
    try:  # when the job's processes together go over their memory bound, the kernel stops one of them
        with open("/proc/self/oom_score_adj", "w") as score:
            score.write("1000")
    except OSError:
        pass
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


def run_job(job, fds):
    """In the job's own process: confine it, read its configuration and probes, and answer them."""
    try:
        config_fd, results_fd = confine(job, fds[:3])
        with os.fdopen(config_fd, encoding="utf-8") as source:
            config = json.load(source)
        config["probes"] = json.loads(os.pread(fds[3], os.fstat(fds[3]).st_size, 0))
        os.close(fds[3])
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


def start_spawner(control_fd):
    """Fork the process that every job's child is forked from, before the server has served anything: each
    job then starts from the same memory whatever jobs came before it on this server, and (address-space
    randomisation being off) its objects lie where they lay when it was graded last. The spawner does
    nothing but fork, so its own memory never changes; its children take their job from a socket of
    their own, and it leaves their reaping to the kernel."""
    go_read, go_write = os.pipe()
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        os.close(control_fd)
        os.close(go_write)
        ours.close()
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        while os.read(go_read, 1):
            if os.fork() == 0:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(go_read)
                message, fds, _, _ = socket.recv_fds(theirs, 1 << 16, 4)
                theirs.sendall(str(os.getpid()).encode())
                theirs.close()
                run_job(json.loads(message), fds)
        os._exit(0)
    os.close(go_read)
    theirs.close()
    return pid, go_write, ours


def start_job(job, fds, control):
    """The pid of a new process running `job`: a child of the spawner, or of this server where there is
    none (no /proc to see a job's end by)."""
    fds = [*fds, PROBES[job["probes"]]]
    if SPAWNER is None:
        pid = os.fork()
        if pid == 0:
            control.close()
            run_job(job, fds)
    else:
        _, go, jobs = SPAWNER
        os.write(go, b"!")
        socket.send_fds(jobs, [json.dumps(job).encode()], fds)
        pid = int(jobs.recv(64))
    for fd in fds[:3]:
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
        gone(job)
    while os.path.isdir("/proc/self"):
        reap()
        pids = [pid for pid in children() if SPAWNER is None or pid != SPAWNER[0]]
        if not pids:
            break
        kill(pids)
    reap()


def gone(pid):
    """Wait (a little) for a job's process that is not ours to reap to be gone, so that its children have
    been handed to us by the time we look for them."""
    for _ in range(2000):
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.001)


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# ---- what a job leaves in the kernel: System V IPC objects -------------------------------------------

IPC_RMID = 0
SYSV = (("shm", "shmctl"), ("msg", "msgctl"), ("sem", "semctl"))


def owned_ipc(uid):
    """(type, id) of every System V object ("shm", "msg" or "sem") the user `uid` owns or created."""
    found = []
    for ipc, _ in SYSV:
        try:
            with open(f"/proc/sysvipc/{ipc}") as table:
                header, *rows = [line.split() for line in table]
        except OSError:
            continue
        found += [(ipc, int(row[1])) for row in rows if str(uid) in (dict(zip(header, row)).get("uid"),
                                                                      dict(zip(header, row)).get("cuid"))]
    return found


def remove_ipc(uid):
    """Remove every System V shared memory segment, message queue and semaphore set of the job user, so
    that none outlives its job (the fallback isolations have no IPC namespace, and a server's namespace
    lasts for all its jobs). Removed by a helper that is that user, their owner or creator: the server
    itself holds no capability that may remove another user's."""
    leftovers = owned_ipc(uid) if uid is not None else []
    if not leftovers:
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            controls = dict(SYSV)
            for ipc, identity in leftovers:
                call = getattr(LIBC, controls[ipc])
                call(identity, 0, IPC_RMID, None) if ipc == "sem" else call(identity, IPC_RMID, None)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def kept_file(source_fd, replaced=None):
    """A file holding everything read from `source_fd` (closed), for jobs to read from the start."""
    if replaced is not None:
        os.close(replaced)
    if hasattr(os, "memfd_create"):
        kept = os.memfd_create("probes")
    else:
        kept, path = tempfile.mkstemp()
        os.unlink(path)
    with os.fdopen(source_fd, "rb") as source:
        while chunk := source.read(1 << 16):
            os.write(kept, chunk)
    return kept


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
            PROBES[request["probes"]] = kept_file(fds[0], PROBES.get(request["probes"]))
            reply = {"kept": request["probes"]}
        else:
            end_everything(request.get("end"))
            remove_ipc(JOB_UID)
            reply = {"ended": request.get("end")}
        control.sendall(json.dumps(reply).encode())


def refuse(reason):
    sys.stdout.write(f"refused {json.dumps(reason)}\n")
    sys.stdout.flush()
    os._exit(1)


def main():
    global JOB_UID, SPAWNER
    setup = json.loads(sys.stdin.readline())
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    uid, mode = setup.get("uid"), setup["mode"]
    JOB_UID = uid
    if setup.get("capabilities") is not None:
        keep_only(setup["capabilities"])
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
    if os.path.isdir("/proc/self"):
        SPAWNER = start_spawner(setup["control"])
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
