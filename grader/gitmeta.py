"""A hand-in's git metadata (its last commit's time, its tags), read without running git.

git run in a hand-in's clone obeys the clone's own configuration, and that configuration can name programs
for git to run (a signature verifier, an external diff, a filesystem monitor): with the grader's privileges,
outside any sandbox. So the grader never runs git on a hand-in. dulwich parses the clone's objects and refs
as data and runs nothing; it does so in a child process of its own with bounded memory, CPU time and wall
clock, since a crafted clone (a compressed object that inflates to gigabytes, a ref that is a link to an
endless device) must cost that clone its date and nothing more. What comes back is checked like every other
untrusted byte: a whole number of seconds in range, and short printable tag names.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SECONDS = 30
MEMORY_BYTES = 1 << 30
OUTPUT_BYTES = 1 << 16
MAX_TAGS = 500
TAG_NAME = re.compile(r"^[\x21-\x7e]{1,200}$")
LATEST_INSTANT = 1 << 34  # the year 2514: later commit times are not believed

# Bounds itself before it reads anything of the clone.
READER = r"""
import json, resource, sys
for limit, value in ((resource.RLIMIT_AS, @MEMORY@), (resource.RLIMIT_CPU, @SECONDS@), (resource.RLIMIT_FSIZE, 0),
                     (resource.RLIMIT_CORE, 0)):
    resource.setrlimit(limit, (value, value))
from dulwich.repo import Repo

repo = Repo(sys.argv[1])
found = {"commit_time": None, "tags": []}
try:
    found["commit_time"] = repo[repo.head()].commit_time
except Exception:
    pass
found["tags"] = sorted(name.decode("utf-8", "replace") for name in repo.refs.keys(base=b"refs/tags/"))[:500]
print(json.dumps(found))
""".replace("@MEMORY@", str(MEMORY_BYTES)).replace("@SECONDS@", str(SECONDS))


@dataclass(frozen=True)
class GitMetadata:
    commit_time: int | None  # the HEAD commit's committer time, in seconds since the epoch
    tags: tuple[str, ...]


NOTHING = GitMetadata(None, ())


def read_git(folder: Path) -> GitMetadata:
    """What `folder`'s clone says of itself; NOTHING when it is no clone or cannot be read within bounds."""
    if not (folder / ".git").exists():
        return NOTHING
    try:
        done = subprocess.run([sys.executable, "-I", "-c", READER, str(folder)], capture_output=True,
                              timeout=SECONDS, check=False, stdin=subprocess.DEVNULL,
                              env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    except (OSError, subprocess.SubprocessError):
        return NOTHING
    if done.returncode != 0 or len(done.stdout) > OUTPUT_BYTES:
        return NOTHING
    try:
        raw = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return NOTHING
    return validated(raw)


def validated(raw: object) -> GitMetadata:
    """The reader's answer, if it is what the reader writes: anything else is no metadata."""
    if not isinstance(raw, dict):
        return NOTHING
    when = raw.get("commit_time")
    if not (type(when) is int and 0 <= when < LATEST_INSTANT):
        when = None
    tags = raw.get("tags")
    names = tuple(tag for tag in tags[:MAX_TAGS] if isinstance(tag, str) and TAG_NAME.match(tag)) \
        if isinstance(tags, list) else ()
    return GitMetadata(when, names)
