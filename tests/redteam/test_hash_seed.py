"""The child's hash seed is fixed: a verdict that follows the order of a set of strings is the same every run.

The server used to be started as `python -I`, and `-I` implies `-E`, so the PYTHONHASHSEED it was given was
ignored and every grading process drew a seed of its own.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from redteam.build import REPO_DIR, build_overlay

from grader.pipeline import probe_submission

RUNS = 5


def test_the_child_hashes_strings_as_with_the_seed_zero(tmp_path):
    hand_in = build_overlay("hash_order", "reference", tmp_path, run="")
    printed = [line.split() for line in probe_submission(hand_in).output.splitlines() if line.startswith("first ")]
    seeded = subprocess.run([sys.executable, "-c", "print(hash('micrograde'))"], capture_output=True, text=True,
                            check=True, env={"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")})
    assert printed and {words[2] for words in printed} == {seeded.stdout.strip()}


def test_a_hash_order_dependent_submission_gets_one_report_in_fresh_processes(tmp_path):
    hand_in = build_overlay("hash_order", "reference", tmp_path, run="")
    reports = set()
    for _ in range(RUNS):
        run = subprocess.run([sys.executable, "-m", "grader", "check", str(hand_in), "--format", "json"], cwd=REPO_DIR,
                             capture_output=True, text=True, timeout=300, check=False,
                             env={**os.environ, "TMPDIR": str(tmp_path)})
        assert run.returncode in (0, 1), run.stderr[-2000:]
        reports.add(json.dumps(json.loads(run.stdout), sort_keys=True))
    assert len(reports) == 1
