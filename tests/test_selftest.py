"""The grader's mutation test: bugs planted in the reference's solution regions must lose points."""
from __future__ import annotations

import difflib

import pytest

from grader.assignment import load_assignment
from grader.paths import REFERENCE_DIR
from grader.selftest import Outcome, Report, generate_mutants, sample_mutants, selftest

# The assignment with every op that has a solution region (the lecture's and sigmoid and log): every
# declared op is mutated, and the oracle evaluates each of them from its declaration.
EVERY_OP = load_assignment("activations")


@pytest.fixture(scope="module")
def run() -> tuple[Report, list[Outcome]]:
    # The full run takes about a minute, so no --limit is needed.
    return selftest(assignment=EVERY_OP)


def test_every_declared_op_with_a_solution_region_is_mutated(run: tuple[Report, list[Outcome]]) -> None:
    _, outcomes = run
    live = {o.mutant.part_id for o in outcomes if not o.equivalent}
    assert {"add", "mul", "pow", "exp", "tanh", "relu", "sigmoid", "log"} <= live


def by_description(outcomes: list[Outcome], part_id: str, old: str, new: str) -> list[Outcome]:
    return [o for o in outcomes
            if o.mutant.part_id == part_id and f"`{old}` becomes `{new}`" in o.mutant.description]


def test_kill_rate_among_non_equivalent_mutants(run: tuple[Report, list[Outcome]]) -> None:
    report, _ = run
    survivors = "\n".join(f"{s['id']} {s['file']}:{s['line']} {s['description']}" for s in report.survivors)
    assert report.non_equivalent > 0
    assert report.kill_rate >= 0.95, f"the grader misses these mutants:\n{survivors}"


def test_every_stubbed_region_has_mutants(run: tuple[Report, list[Outcome]]) -> None:
    _, outcomes = run
    mutated = {o.mutant.part_id for o in outcomes}
    assert set(load_assignment().stubs) | set(EVERY_OP.stubs) <= mutated


def test_a_harmless_rewrite_is_equivalent(run: tuple[Report, list[Outcome]]) -> None:
    _, outcomes = run
    found = by_description(outcomes, "add", "1.0 * out.grad", "out.grad")
    assert found
    assert all(o.equivalent for o in found)


def test_overwriting_the_gradient_in_mul_is_caught(run: tuple[Report, list[Outcome]]) -> None:
    _, outcomes = run
    found = by_description(outcomes, "mul", "self.grad += other.data * out.grad", "self.grad = other.data * out.grad")
    assert len(found) == 1
    assert not found[0].equivalent
    assert found[0].killed


def test_mutants_change_only_their_statement() -> None:
    for mutant in generate_mutants():
        original = (REFERENCE_DIR / mutant.file).read_text(encoding="utf-8").splitlines()
        changed = [line for line in difflib.ndiff(original, mutant.source.splitlines()) if line[:1] in "+-"]
        assert len([line for line in changed if line.startswith("-")]) == 1, mutant.id
        assert len([line for line in changed if line.startswith("+")]) == 1, mutant.id


def test_sampling_is_deterministic_and_keeps_every_region() -> None:
    mutants = generate_mutants()
    first, second = sample_mutants(mutants, 20), sample_mutants(mutants, 20)
    assert [m.id for m in first] == [m.id for m in second]
    assert len(first) == 20
    assert {m.part_id for m in first} == {m.part_id for m in mutants}
