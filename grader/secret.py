"""The instructor's secret, from which every grading draws its own inputs.

The probe plan's structure is public (the student edition ships it, with the reference's answers), so a
grade worth anything cannot rest on its numbers: an engine that replays memorised answers would pass. The
instructor's grader therefore draws each submission's inputs from a seed that only it can compute: an HMAC
of the assignment, the student and the submission's content under a secret kept next to the assignment
(`secret.key`, made on first use, never shipped) or given in MICROGRADE_SECRET. The same submission always
gets the same inputs, and so the same report; another submission, or another student, gets others.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_ENV = "MICROGRADE_SECRET"
SECRET_FILE = "secret.key"


def instructor_secret(assignment_dir: Path) -> bytes:
    """MICROGRADE_SECRET if set, else the assignment's secret.key, made (readable by its owner only) when
    missing."""
    given = os.environ.get(SECRET_ENV)
    if given:
        return given.encode("utf-8")
    path = Path(assignment_dir) / SECRET_FILE
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def inputs_seed(secret: bytes, assignment: str, student: str, content: str) -> int:
    """The seed of one grading's inputs: the same for the same submission, unguessable without the secret."""
    message = f"{assignment}\x00{student}\x00{content}".encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big")


def content_digest(folder: Path) -> str:
    """A digest of every file below `folder` (paths and bytes), taken before any student code runs."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink()):
        digest.update(str(path.relative_to(folder)).encode("utf-8", "surrogateescape") + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
