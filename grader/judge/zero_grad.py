"""Judging `Module.zero_grad()`: on the student's own MLP, Layer and Neuron (every parameter they list
holding a gradient), and, where those cannot be built, on a Module subclass whose parameters we choose."""
from __future__ import annotations

from grader.judge import statements
from grader.judge.backward import error_finding
from grader.judge.evidence import Case, Evidence, Finding
from grader.judge.tolerance import REFERENCE, close


def zero_grad_cases(ev: Evidence, part: str = "zero_grad") -> list[Case]:
    """The student's own classes when they can be built; the Module subclass otherwise."""
    own = ev.cases(part, kind="zero_grad_nn")
    usable = [c for c in own if not (c.student.get("error") and (c.student.get("stage") == "build"
                                                                   or c.student["error"].get("kind") == "missing"))]
    return usable or ev.cases(part, kind="zero_grad")


def models_of(case: Case) -> list[dict]:
    """What the case reset: one record per model, as {name, grads, data_kept, where}, the smallest model
    first (a Neuron's own zero_grad is the cause when the MLP around it fails too); a parameter's value is
    kept when it is still the value the probe gave it."""
    if case.probe["kind"] == "zero_grad_nn":
        values = case.probe["values"]
        return [{**model, "data_kept": [close(d, values[i % len(values)], **REFERENCE)
                                        for i, d in enumerate(model["data"])]}
                for model in reversed(case.student.get("models") or [])]
    want = [d for d, _ in case.probe["params"]]
    data = case.student.get("data") or []
    return [{"name": "a Module subclass", "grads": case.student.get("grads") or [],
             "data_kept": [close(d, w, **REFERENCE) for d, w in zip(data, want)], "where": case.student.get("where")}]


def reset_finding(ev: Evidence, case: Case) -> Finding | None:
    found = error_finding(ev, case)
    if found and found.diagnosis == "not_a_number" and not case.student.get("error", {}).get("where"):
        found = found.at(statements.blame(ev, case.student.get("where"), statements.grad_write_line, ev.attribute("grad")) or found.where)
    if found:
        return found
    for model in models_of(case):
        grads = model["grads"]
        kept = [i for i, g in enumerate(grads) if not close(g, 0.0, rtol=0.0, atol=0.0)]
        if kept or not grads:
            return Finding("misses_parameters", f"After zero_grad() on {model_name(model)}, {len(kept)} of "
                           f"{len(grads)} parameters still hold a gradient.", case=case.label, expected=0.0,
                           got=grads[kept[0]] if kept else None, where=statements.blame(ev, model.get("where"), statements.reset_line))
    return None


def data_finding(ev: Evidence, case: Case) -> Finding | None:
    found = error_finding(ev, case)
    if found:
        return found
    for model in models_of(case):
        changed = [i for i, kept in enumerate(model["data_kept"]) if not kept]
        if changed or not model["data_kept"]:
            return Finding("resets_data", f"zero_grad() on {model_name(model)} changed the value of {len(changed)} "
                           "parameters.", case=case.label, where=statements.blame(ev, model.get("where"), statements.data_write_line, ev.attribute("data")))
    return None


def model_name(model: dict) -> str:
    name = model.get("name")
    return {"MLP": "your MLP(3, [4, 1])", "Layer": "your Layer(3, 2)", "Neuron": "your Neuron(3)"}.get(name, name)
