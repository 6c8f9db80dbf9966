"""The grader against the corpus: every single-bug mutant loses points in exactly its part, with the
right headline diagnosis; every correct variant gets full marks; the reference gets full marks."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import corpus_tools
import pytest

from grader.assignment import load_assignment
from grader.pipeline import judge

COMPOSITE_PARTS = {"neg", "sub", "div"}  # given code built on other ops: may fail along with them, worth 0


@pytest.fixture(scope="module")
def graded(corpus_probes):
    """Grade every mutant and variant in one batch: probes in parallel (each once a session), one judging
    session."""
    jobs = [(f"mutant:{mutant['name']}", "mutant", mutant["name"]) for mutant in corpus_tools.load_mutants()]
    jobs += [(f"variant:{variant['name']}", "variant", variant["name"]) for variant in corpus_tools.load_variants()]
    jobs.append(("reference", "path", str(corpus_tools.REPO_DIR / "reference")))
    return {result.submission: result for result in judge(corpus_probes.probe(jobs), load_assignment())}


def test_reference_gets_full_marks(graded):
    result = graded["reference"]
    assert result.score == result.max_score == 100
    assert all(test.status == "passed" for test in result.tests)


@pytest.mark.parametrize("variant", corpus_tools.load_variants(), ids=lambda v: v["name"])
def test_correct_variant_gets_full_marks(graded, variant):
    result = graded[f"variant:{variant['name']}"]
    failing = [(t.name, t.message) for t in result.tests if t.status != "passed"]
    assert result.status == "graded", result.error
    assert result.score == result.max_score, failing


@pytest.mark.parametrize("mutant", corpus_tools.load_mutants(), ids=lambda m: m["name"])
def test_mutant_loses_points_in_its_part_only(graded, mutant):
    result = graded[f"mutant:{mutant['name']}"]
    parts = {part.id: part for part in result.parts}
    part = parts[mutant["part"]]
    assert part.status != "passed", f"{mutant['name']} was not caught"
    if part.max_score > 0:
        assert part.score < part.max_score
    charged = {p.id for p in result.parts if p.score < p.max_score}
    assert charged <= {mutant["part"]}, f"{mutant['name']} also cost points in {charged - {mutant['part']}}"
    failing_elsewhere = {p.id for p in result.parts if p.status != "passed"} - {mutant["part"]} - COMPOSITE_PARTS
    assert not failing_elsewhere, f"{mutant['name']} is blamed on {failing_elsewhere} too"
    assert part.diagnosis == mutant["diagnosis"], f"{mutant['name']}: {part.message}"


@pytest.mark.parametrize("mutant", corpus_tools.load_mutants(), ids=lambda m: m["name"])
def test_mutant_feedback_names_a_case_and_a_line(graded, mutant):
    result = graded[f"mutant:{mutant['name']}"]
    failed = [t for t in result.tests if t.part == mutant["part"] and t.status != "passed"]
    assert failed and all(t.message and t.hint for t in failed)
    assert any(t.case for t in failed)
    if mutant["diagnosis"] not in ("missing", "no_plain_number"):
        assert any(t.file and t.line for t in failed), f"{mutant['name']}: no file:line in the feedback"


ORDER_SENSITIVE = ["backward_no_visited_check", "pow_overwrite", "exp_overwrite", "backward_preorder"]


def reports_of_fresh_runs(path: Path, runs: int = 3) -> list[dict]:
    return [json.loads(subprocess.run([sys.executable, "-m", "grader", "check", str(path), "--format", "json"],
                                      check=False, cwd=corpus_tools.REPO_DIR, capture_output=True, text=True,
                                      timeout=120).stdout) for _ in range(runs)]


@pytest.mark.parametrize("name", ORDER_SENSITIVE)
def test_the_same_submission_gets_the_same_report_in_every_run(name, tmp_path):
    """Engines keep `_prev` in sets, iterated in memory-address order, which differs between processes;
    each run here is a fresh process. The verdicts never differ, and the report is the same byte for byte
    unless the engine's own traversal visits nodes in a different order from run to run (a pre-order
    topological sort then trips over a different pair of nodes, and the report names that pair)."""
    mutant = next(m for m in corpus_tools.load_mutants() if m["name"] == name)
    reports = reports_of_fresh_runs(corpus_tools.build_mutant(mutant, tmp_path / name))
    verdicts = [(r["score"], [(t["check"], t["part"], t["status"], t["diagnosis"]) for t in r["tests"]])
                for r in reports]
    assert verdicts[0][0] < 100 and verdicts.count(verdicts[0]) == len(verdicts)
    if name != "backward_preorder":
        assert reports.count(reports[0]) == len(reports)
