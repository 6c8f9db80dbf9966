"""`micrograde sandbox`: say which isolation student code runs in here, why, and what a job can see."""
from __future__ import annotations

import argparse

HELP = "Say which isolation student code runs in on this machine, and why."

VISIBLE = {
    "bwrap": "only its staged copy (read-write), the Python runtime read-only ({runtime}), /dev/null, "
             "/dev/urandom, a private /tmp and its own /proc; no network",
    "unshare": "only its staged copy (read-write), the Python runtime read-only ({runtime}), /dev/null, "
               "/dev/urandom, a private /tmp and its own /proc; no network",
    "chroot": "only its staged copy: no /proc, no /dev, no Python files (the modules it may import are loaded "
              "before); the network is reachable",
    "none": "every file this machine lets the job user read, the processes of /proc, and the network",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unsafe-sandbox", action="store_true",
                        help="as for check and grade: say what would run if the risk were accepted")


def explain() -> str:
    """Lines saying which isolation is in force here and why, found by starting the sandbox server."""
    from grader.sandbox import isolation
    from grader.sandbox.process import SandboxError, sandbox

    try:
        server = sandbox()
    except SandboxError as exc:
        return f"isolation: none; grading would be refused:\n  {exc}\n"
    way = server.isolation
    user = "the grader's own user" if server.uid is None else f"uid {server.uid} (its own; never root)"
    visible = VISIBLE[way.mode].format(runtime=", ".join(isolation.runtime_paths()))
    lines = [f"isolation: {way.mode} ({way.why})", f"job user: {user}", f"a job sees: {visible}",
             *(f"bound per job: {line}" for line in server.bounds.describe())]
    others = [w.mode for w in isolation.available() if w != way]
    if others:
        lines.append(f"also possible here: {', '.join(others)}")
    if way.note():
        lines.append(f"every report says: {way.note()}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from grader.commands.limits import accept_unsafe_sandbox

    accept_unsafe_sandbox(args)
    print(explain(), end="")
    return 0
