"""Judging `Value.backward()` on graphs whose closures are the grader's: seed, visits, order, gradients."""
from __future__ import annotations

from collections import Counter

from grader.judge import statements
from grader.judge.diagnoses import ERROR_KINDS
from grader.judge.evidence import Case, Evidence, Finding, stub_tasks
from grader.judge.ops import fmt
from grader.judge.tolerance import REFERENCE, all_close, close


def error_finding(ev: Evidence, case: Case) -> Finding | None:
    error = case.student.get("error")
    if not error:
        return None
    where = ev.where(error.get("where")) or ev.where(case.student.get("where"))
    kind = error.get("kind")
    text = f"`{case.label}` raises {error.get('type')}: {error.get('message')}"
    if kind == "not_started":
        return Finding("not_started", text, case=case.label, where=where, stubs=stub_tasks(error))
    if kind == "missing":
        name = error.get("name")
        needs = f"`{name}`, which is not defined" if isinstance(name, str) and name.isidentifier() else \
            "a name that is not defined"
        return Finding("missing", f"`{case.label}` needs {needs}.", case=case.label)
    code = ERROR_KINDS.get(kind, "crash")
    if code == "timeout":
        return Finding("timeout", f"`{case.label}` did not finish.", case=case.label, where=where)
    return Finding(code, text, case=case.label, where=where, stubs=stub_tasks(error))


def inner_nodes(case: Case) -> list[int]:
    return [i for i, node in enumerate(case.probe["nodes"]) if node["children"]]


def seed_finding(ev: Evidence, case: Case) -> Finding | None:
    found = error_finding(ev, case)
    if found:
        return found
    got = case.student.get("out_grad")
    if close(got, 1.0, **REFERENCE):
        return None
    return Finding("not_seeded", f"After `{case.label}`, the output's grad is {fmt(got)}, expected 1.",
                   case=case.label, expected=1.0, got=got,
                   where=statements.blame(ev, case.student.get("where"), statements.seed_line))


def visits_finding(ev: Evidence, case: Case) -> Finding | None:
    found = error_finding(ev, case)
    if found:
        return found
    counts = Counter(case.student.get("calls") or [])
    for i in inner_nodes(case):
        if counts[i] > 1:
            return Finding("visited_twice", f"In {case.label}, node {i}'s `_backward` ran {counts[i]} times.",
                           case=case.label, expected=1, got=counts[i],
                           where=statements.blame(ev, case.student.get("where"), statements.topo_append_line))
        if counts[i] == 0:
            return Finding("wrong_gradient", f"In {case.label}, node {i}'s `_backward` never ran.", case=case.label,
                           expected=1, got=0,
                           where=statements.blame(ev, case.student.get("where"), statements.backward_call_line))
    return None


def order_finding(ev: Evidence, case: Case) -> Finding | None:
    """Each node's `_backward` must run after those of all the nodes that use it.

    Judged only where every node ran once: when some ran twice (charged by the visits check), the order
    of the repeats follows the iteration order of the engine's `_prev` sets, which changes from run to
    run, and the same submission must always get the same report."""
    found = error_finding(ev, case)
    if found:
        return found
    calls = case.student.get("calls") or []
    if any(count > 1 for count in Counter(calls).values()):
        return None
    first = {}
    for position, node in enumerate(calls):
        first.setdefault(node, position)
    for consumer, node in enumerate(case.probe["nodes"]):
        for i in node["children"]:
            if case.probe["nodes"][i]["children"] and i in first and consumer in first and first[i] < first[consumer]:
                return Finding("not_reversed", f"In {case.label}, node {i}'s `_backward` ran before node "
                               f"{consumer}'s, which uses it: its gradient was not complete yet.", case=case.label,
                               where=statements.blame(ev, case.student.get("where"), statements.order_line))
    return None


def gradient_finding(ev: Evidence, case: Case) -> Finding | None:
    found = error_finding(ev, case)
    if found:
        return found
    got, want = case.student.get("grads"), case.reference["grads"]
    if all_close(got, want, **REFERENCE):
        return None
    cause = seed_finding(ev, case) or visits_finding(ev, case) or order_finding(ev, case)
    if cause:
        return cause
    i = next((i for i, (g, w) in enumerate(zip(got or [], want)) if not close(g, w, **REFERENCE)), 0)
    return Finding("wrong_gradient", f"After `{case.label}`, node {i} has grad "
                   f"{fmt(got[i] if got and i < len(got) else None)}, expected {fmt(want[i])}.", case=case.label,
                   expected=want[i], got=got[i] if got and i < len(got) else None,
                   where=statements.blame(ev, case.student.get("where"), statements.backward_call_line))
