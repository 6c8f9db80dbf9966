"""The attack: make `micrograde check` stop between starting its sandbox server early and using it (a bad
option found after the start), to leave a running server or its folder behind on a shared machine. The
defence: a server started early and never used is stopped at exit like any other."""
from __future__ import annotations

import os
import subprocess
import sys

from grader.paths import REFERENCE_DIR, REPO_DIR
from grader.sandbox import process


def test_a_check_refused_after_the_early_start_leaves_no_server_and_no_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = ("import sys, time\nfrom grader.sandbox import process\nfrom grader.cli import main\n"
            "real = process.Sandbox\n"
            "def slow(*a, **k):\n    server = real(*a, **k)\n    time.sleep(0.3)\n    return server\n"
            "process.Sandbox = slow\n"
            f"sys.exit(main(['check', {str(REFERENCE_DIR)!r}, '--probe-seconds', '0']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_DIR, env={**os.environ, "TMPDIR": str(tmp)},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--probe-seconds" in done.stderr
    assert list(tmp.iterdir()) == []


def test_the_early_server_is_the_one_the_check_uses(monkeypatch):
    started = []
    real = process.Sandbox

    def counting(*args, **kwargs):
        started.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(process, "Sandbox", counting)
    monkeypatch.setattr(process, "_local", type(process._local)())
    process.start_early()
    server = process.sandbox()
    assert process.sandbox() is server and server.alive() and started == [1]
    server.close()
