"""Judging `Module.zero_grad()` on a module whose parameters hold random gradients."""
from __future__ import annotations

from grader.judge import statements
from grader.judge.backward import error_finding
from grader.judge.evidence import Case, Evidence, Finding
from grader.judge.tolerance import REFERENCE, close


def reset_finding(ev: Evidence, case: Case) -> Finding | None:
    found = error_finding(ev, case)
    if found and found.diagnosis == "not_a_number" and not case.student.get("error", {}).get("where"):
        found.where = statements.blame(ev, case.student.get("where"), statements.grad_write_line) or found.where
    if found:
        return found
    grads = case.student.get("grads") or []
    kept = [i for i, g in enumerate(grads) if not close(g, 0.0, rtol=0.0, atol=0.0)]
    if grads and not kept:
        return None
    return Finding("misses_parameters", f"After zero_grad() on {case.label}, {len(kept)} of "
                   f"{len(case.probe['params'])} parameters still hold a gradient.", case=case.label,
                   expected=0.0, got=grads[kept[0]] if kept else None,
                   where=statements.blame(ev, case.student.get("where"), statements.reset_line))


def data_finding(ev: Evidence, case: Case) -> Finding | None:
    found = error_finding(ev, case)
    if found:
        return found
    data = case.student.get("data") or []
    want = [d for d, _ in case.probe["params"]]
    changed = [i for i, (d, w) in enumerate(zip(data, want)) if not close(d, w, **REFERENCE)]
    if data and not changed:
        return None
    return Finding("resets_data", f"zero_grad() on {case.label} changed the value of {len(changed)} parameters.",
                   case=case.label, where=statements.blame(ev, case.student.get("where"), statements.data_write_line))
