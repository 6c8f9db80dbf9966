"""The grader against engines written in other shapes than the template (tests/corpus/shapes.toml): every
correct shape gets full marks under its own names with one note naming them, under strict names it is told
which name to change, and every single-bug mutant of a shape loses points in exactly its part with its
own diagnosis."""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import corpus_tools
import pytest

from grader.assignment import load_assignment
from grader.contract import ENGINE_NAMES
from grader.pipeline import judge, probe_submission

SHAPES = corpus_tools.load_shapes()
MUTANTS = corpus_tools.load_shape_mutants()
COMPOSITE_PARTS = {"neg", "sub", "div"}  # given code built on other ops: may fail along with them, worth 0


@pytest.fixture(scope="module")
def graded(corpus_probes):
    jobs = [(f"shape:{s['name']}", "shape", s["name"]) for s in SHAPES]
    jobs += [(f"mutant:{m['name']}", "shape_mutant", m["name"]) for m in MUTANTS]
    return {result.submission: result for result in judge(corpus_probes.probe(jobs), load_assignment())}


@pytest.fixture(scope="module")
def strictly_graded(tmp_path_factory):
    strict = dataclasses.replace(load_assignment(), strict_names=True)
    root = tmp_path_factory.mktemp("strict")
    jobs = [(f"shape:{s['name']}", Path(corpus_tools.CORPUS_DIR / s["submission"])) for s in SHAPES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        probed = list(pool.map(lambda job: probe_submission(job[1], name=job[0], assignment=strict), jobs))
    del root
    return {result.submission: result for result in judge(probed, strict)}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s["name"])
def test_correct_shape_gets_full_marks_under_its_own_names(graded, shape):
    result = graded[f"shape:{shape['name']}"]
    failing = [(t.name, t.message) for t in result.tests if t.status != "passed"]
    assert result.status == "graded", result.error
    assert result.score == result.max_score, failing
    names = shape["names"]
    renamed = [role for role, contract in ENGINE_NAMES.items() if names.get(role, contract) != contract]
    notes = [n for n in result.notes if n.startswith("graded under your engine's own names")]
    if renamed or names.get("style") == "local_grads":
        assert len(notes) == 1, result.notes
        for role in renamed:
            own = names[role].split(":")[-1]
            assert f"`{own}`" in notes[0] or own in notes[0], (role, notes[0])
    else:
        assert not notes, result.notes


@pytest.mark.parametrize("shape", [s for s in SHAPES if s["names"].get("value_class", "Value") == "Value"
                                   and s["names"].get("children", "_prev") != "_prev"], ids=lambda s: s["name"])
def test_strict_names_say_which_name_to_change(strictly_graded, shape):
    result = strictly_graded[f"shape:{shape['name']}"]
    assert result.score < result.max_score
    strict = [n for n in result.notes if n.startswith("strict names:")]
    assert strict, result.notes
    assert "`_prev`" in strict[0] and f"`{shape['names']['children']}`" in strict[0], strict[0]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m["name"])
def test_shape_mutant_is_caught_in_its_part_only(graded, mutant):
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
