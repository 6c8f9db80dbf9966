"""Two ways a grade could be worth less than the code behind it.

Replay: the probe plan's structure is public, and the student edition ships the reference's answers to the
public plan. A hand-in that finds the child's results pipe at import and writes those answers back scores
full marks against the public inputs; the instructor's grading draws its own inputs from a secret, per
student and content, so the same hand-in scores no more than its honest code (the untouched template).

Flip: the same submission must get the same verdict in every run, whatever memory layout a fresh process
has. A breadth-first backward() (a common bug) fails in backward every time; the lecture's recursive
topological sort passes every time.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import corpus_tools
import pytest

from grader.assignment import load_assignment
from grader.pipeline import judge, probe_submission
from grader.reference import public_plan, reference_results

TEMPLATE = corpus_tools.REPO_DIR / "student_template"

FORGER = '''
"""Replays the public plan's answers: finds the child's configuration up the stack, then writes a load
record, and for every probe it knows the reference's public answer, then `done`, and exits."""
import json
import os
import sys

ANSWERS = json.loads({answers!r})


def _child_config():
    frame = sys._getframe()
    while frame is not None:
        config = frame.f_locals.get("config")
        if isinstance(config, dict) and "probes" in config and "results_fd" in config:
            return config
        frame = frame.f_back
    return None


_config = _child_config()
if _config is not None:
    records = [{{"load": {{"found": ["Value", "Module", "Neuron", "Layer", "MLP", "train"], "problems": []}}}}]
    for i, probe in enumerate(_config["probes"]):
        if i >= _config.get("skip", 0):
            answer = ANSWERS.get(probe["id"])
            if answer is not None:
                records += [{{"start": i}}, {{"i": i, "result": answer}}]
    records.append({{"done": True}})
    os.write(_config["results_fd"], "".join(json.dumps(r) + "\\n" for r in records).encode())
    os._exit(0)
'''


def replay_forger(root: Path) -> Path:
    folder = root / "forger"
    shutil.copytree(TEMPLATE, folder, ignore=shutil.ignore_patterns(".github", "__pycache__"))
    answers = {probe: {k: v for k, v in answer.items() if k != "loops"}
               for probe, answer in reference_results(public_plan(load_assignment())).items()}
    (folder / "micrograd" / "__init__.py").write_text(FORGER.format(answers=json.dumps(answers)))
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("replay")
    assignment = load_assignment()
    jobs = [("forger", replay_forger(root)), ("template", TEMPLATE), ("control", corpus_tools.REPO_DIR / "reference")]
    secret = [probe_submission(path, name=name, assignment=assignment) for name, path in jobs]
    public = [probe_submission(path, name=f"public-{name}", assignment=assignment, public_inputs=True)
              for name, path in jobs]
    return {r.submission: r for r in judge(secret + public, assignment)}


def test_the_replay_works_against_the_public_inputs(graded):
    # The attack is real: the public answers are enough where the public plan is graded.
    assert graded["public-forger"].score > graded["public-template"].score + 50


def test_the_replay_earns_nothing_against_the_secret_inputs(graded):
    honest = graded["template"].score
    assert honest == 15
    assert graded["forger"].score <= honest
    assert graded["control"].score == graded["control"].max_score == 100


def verdict_of_a_fresh_run(path: Path) -> tuple:
    done = subprocess.run([sys.executable, "-m", "grader", "check", str(path), "--format", "json"], check=False,
                          cwd=corpus_tools.REPO_DIR, capture_output=True, text=True, timeout=180)
    report = json.loads(done.stdout)
    return report["score"], tuple((p["id"], p["status"], p["diagnosis"]) for p in report["parts"])


RECURSIVE_TOPO = '''
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)

        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
'''


@pytest.mark.parametrize("kind", ["breadth_first", "lecture_recursive"])
def test_the_same_backward_gets_the_same_verdict_in_twenty_fresh_runs(tmp_path, kind):
    breadth = next(m for m in corpus_tools.load_mutants() if m["name"] == "backward_breadth_first")
    entry = dict(breadth) if kind == "breadth_first" else {**breadth, "replace": RECURSIVE_TOPO}
    folder = corpus_tools.build_mutant(entry, tmp_path / kind)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = set(pool.map(verdict_of_a_fresh_run, [folder] * 20))
    assert len(runs) == 1, runs
    score, parts = runs.pop()
    backward = next(p for p in parts if p[0] == "backward")
    if kind == "breadth_first":
        assert backward[1] == "failed" and backward[2] == "not_reversed", parts
        assert all(status == "passed" for part, status, _ in parts if part != "backward")
    else:
        assert score == 100, parts
