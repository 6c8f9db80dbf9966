"""The instructor's grading draws its inputs from a secret, per student and content; the student edition
checks with the public plan. Both must say the same about every honest engine: on every correct variant,
shape and single-bug mutant of the corpus, each part gets the same status and diagnosis from the public
inputs and from the secret ones, and the same submission gets the same secret inputs every time."""
from __future__ import annotations

import corpus_tools
import pytest

from grader.assignment import load_assignment
from grader.load import load_submission
from grader.pipeline import judge, plan_for
from grader.reference import grading_plan


def corpus_jobs() -> list[tuple[str, str, str]]:
    """(name, kind, entry) of every correct variant, shape and single-bug mutant, as `corpus_probes` takes them."""
    jobs = [(f"mutant:{m['name']}", "mutant", m["name"]) for m in corpus_tools.load_mutants()]
    jobs += [(f"variant:{v['name']}", "variant", v["name"]) for v in corpus_tools.load_variants()]
    jobs += [(f"shape:{s['name']}", "shape", s["name"]) for s in corpus_tools.load_shapes()]
    jobs += [(f"shape-mutant:{m['name']}", "shape_mutant", m["name"]) for m in corpus_tools.load_shape_mutants()]
    return jobs


def verdicts(results) -> dict[str, list[tuple]]:
    return {r.submission: [(p.id, p.status, p.diagnosis) for p in r.parts] for r in results}


@pytest.fixture(scope="module")
def both(corpus_probes):
    assignment = load_assignment()
    jobs = corpus_jobs()
    secret = corpus_probes.probe(jobs)
    public = corpus_probes.probe(jobs, public_inputs=True)
    return verdicts(judge(secret, assignment)), verdicts(judge(public, assignment))


def test_public_and_secret_inputs_give_the_same_verdict_on_every_part(both):
    secret, public = both
    assert secret.keys() == public.keys() and len(secret) > 150
    differ = {name: [(s, p) for s, p in zip(secret[name], public[name]) if s != p]
              for name in secret if secret[name] != public[name]}
    assert not differ, differ


def test_the_secret_inputs_differ_from_the_public_ones_and_depend_on_student_and_content(tmp_path):
    assignment = load_assignment()
    reference = corpus_tools.REPO_DIR / "reference"
    staged = load_submission(reference, tmp_path / "a")
    public = grading_plan(assignment, None)
    alice, again, bob = (plan_for(assignment, name, staged) for name in ("alice", "alice", "bob"))
    assert alice.digest == again.digest
    assert len({public.digest, alice.digest, bob.digest}) == 3
    edited = tmp_path / "edited"
    corpus_tools.copy_reference(edited)
    engine = edited / "micrograd" / "engine.py"
    engine.write_text(engine.read_text() + "\n# a comment\n")
    changed = plan_for(assignment, "alice", load_submission(edited, tmp_path / "b"))
    assert changed.digest != alice.digest
    public_points = {p["label"] for p in public.probes if p["kind"] == "op"}
    secret_points = {p["label"] for p in alice.probes if p["kind"] == "op"}
    assert len(public_points & secret_points) < len(public_points) / 4
