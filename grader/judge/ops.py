"""Judging the operations from their probes; what each op is comes from its declaration (grader/parts.py).

Each function looks at one case (one probe's answers) and returns a `Finding` or None. Gradient
mismatches are explained by pattern: unchanged grads (no gradient), the pre-existing grad lost
(overwrite), off by the upstream factor (chain rule dropped), or a known wrong formula (named).
An op that fails because another op it really ran while being built is broken (observed in the child,
for this submission) says so instead of blaming itself.
"""
from __future__ import annotations

from grader.judge import causes, statements
from grader.judge.diagnoses import ERROR_KINDS
from grader.judge.evidence import Case, Cause, Evidence, Finding, Location, stub_tasks
from grader.judge.tolerance import NUMERICAL, REFERENCE, all_close, central_difference, close
from grader.parts import OPS

LEAF_NAMES = "ab"
# Value's methods a misspelt method is never taken for (see statements.missing_method_line).
EXPECTED_METHODS = (*(op.method for op in OPS.values()), *(op.reflected for op in OPS.values() if op.reflected),
                    "__init__", "__repr__", "backward")


def fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.10g}"  # no float noise: -0.6, not -0.6000000000000001
    if isinstance(x, list):
        return "[" + ", ".join(fmt(v) for v in x) + "]"
    return str(x)


def error_finding(ev: Evidence, case: Case, part: str) -> Finding | None:
    """A case whose student answer is an error, a non-Value, or no answer at all."""
    s = case.student
    error = s.get("error")
    where = ev.where((error or {}).get("where")) or ev.where(s.get("method_where"))
    label = f"`{case.label}`"
    if error is None:
        if s.get("is_value") is False:
            returned = s.get("returned", "None")
            missing = returned == "None"
            text = f"{label} returned {returned}, not a Value" + (": `return out` is missing." if missing else ".")
            place = statements.blame(ev, s.get("method_where"), statements.missing_return_line)
            return Finding("returns_none", text, case=case.label, where=Location.of(place, missing=missing))
        return None
    kind, message = error.get("kind"), f"{error.get('type', '')}: {error.get('message', '')}".strip(": ")
    if kind == "not_started":
        return Finding("not_started", f"{label} still raises {message}", case=case.label, where=where,
                       stubs=stub_tasks(error))
    if kind == "missing" or s.get("has_method") is False:
        name = s.get("method")
        if name is None and isinstance(error.get("name"), str) and error["name"].isidentifier():
            # Not even the engine is there: the name the probe needed is the class's.
            return Finding("missing", f"{label} needs `{error['name']}`, which is not defined.", case=case.label,
                           cause=Cause(op=part, expected=error["name"]))
        beside = next((op.method for op in OPS.values() if op.reflected and op.reflected == name), None)
        place = Location.of(statements.blame_missing_method(ev, "Value", name, EXPECTED_METHODS, beside)
                            if name else None, missing=True)
        needs = f"`Value.{name}`, which is missing" if name else "a method that is missing"
        text = f"{label} needs {needs}" + (f" (the reflected form of `{beside}`)." if beside else ".")
        code = "no_plain_number" if case.probe.get("check") == "number" else "missing"
        return Finding(code, text, case=case.label, where=place, cause=Cause(op=part, expected=name))
    if s.get("stage") == "backward" and s.get("backward_callable") is False:
        return Finding("backward_not_callable", f"{label}: `out._backward` is not callable ({message}).",
                       case=case.label, where=statements.blame(ev, s.get("method_where"), statements.attach_line))
    if case.probe.get("check") == "number" and s.get("stage") == "forward":
        return Finding("no_plain_number", f"{label} raises {message}", case=case.label, where=where)
    if kind in ("timeout", "no_answer"):
        return Finding("timeout", f"{label} did not finish (the engine hung or stopped).", case=case.label)
    if s.get("stage") == "backward" and not (error or {}).get("where"):
        where = ev.where(s.get("backward_where")) or where  # raised calling the closure: blame its `def`
    code = ERROR_KINDS.get(kind, "crash")
    return Finding(code, f"{label} raises {message}", case=case.label, where=where, stubs=stub_tasks(error))


def forward_finding(ev: Evidence, case: Case, part: str) -> Finding | None:
    found = error_finding(ev, case, part)
    if found and found.diagnosis != "backward_not_callable" and case.student.get("stage") != "backward":
        return found
    got, want = case.student.get("data"), case.reference["data"]
    if close(got, want, **REFERENCE):
        return None
    swapped = case.student.get("swapped")
    if case.probe.get("check") == "number" and isinstance(swapped, float) and close(got, swapped, **REFERENCE) \
            and not close(swapped, want, **REFERENCE):
        number = case.probe["operands"][0]["const"]
        detail = f"That is `{OPS[part].label([None], ('right', number))}`: the reflected method swapped its operands."
        return Finding("swapped_operands", f"`{case.label}` gives {fmt(got)}, expected {fmt(want)}. {detail}",
                       case=case.label, expected=want, got=got, detail=detail,
                       where=statements.blame(ev, case.student.get("method_where"), statements.forward_line))
    return Finding("wrong_forward", f"`{case.label}` gives {fmt(got)}, expected {fmt(want)}.", case=case.label,
                   expected=want, got=got,
                   where=statements.blame(ev, case.student.get("method_where"), statements.forward_line))


def gradient_finding(ev: Evidence, case: Case, part: str, want: list | None = None,
                     numerical: list | None = None) -> Finding | None:
    """Student grads against `want` (the reference's by default), explained when they differ."""
    found = error_finding(ev, case, part)
    if found:
        return found
    got = case.student.get("grads")
    want = case.reference["grads"] if want is None else want
    tol = REFERENCE if numerical is None else NUMERICAL
    if all_close(got, want, **tol):
        return None
    code, detail = explain_gradient(case, got, want, ev.cases(part, kind="op", check="value"),
                                    ev.cases(part, kind="op", check="accumulate"))
    i = next((i for i, (g, w) in enumerate(zip(got or [], want)) if not close(g, w, **tol)), 0)
    name = LEAF_NAMES[i] if i < len(LEAF_NAMES) else f"x{i}"
    upstream = case.probe["g"]
    pre = case.probe.get("pre")
    setup = f" with out.grad = {fmt(upstream)}" + (f" and {name}.grad already {fmt(pre[i])}" if pre else "")
    message = (f"`{case.label}`{setup}: {name}.grad = {fmt(got[i] if got else None)}, expected {fmt(want[i])}"
               + (f" (numerical estimate {fmt(numerical[i])})" if numerical else "") + ".")
    if code == "wrong_derivative":
        message += f" Expected {OPS[part].derivative}."
    if detail:
        message += f" {detail}"
    return Finding(code, message, case=case.label, expected=want[i], got=got[i] if got else None,
                   numerical=numerical[i] if numerical else None, detail=detail,
                   where=statements.gradient_where(ev, case.student, code, i))


def explain_gradient(case: Case, got: list, want: list, siblings: list[Case] = (),
                     accumulating: list[Case] = ()) -> tuple[str, str | None]:
    """Name the pattern of a wrong gradient; see the module docstring."""
    probe = case.probe
    pre = probe.get("pre") or [0.0] * len(want)
    g = probe["g"]
    if not isinstance(got, list) or len(got) != len(want):
        return "wrong_derivative", None
    swapped = causes.swapped_factor(case, siblings) or causes.grad_for_data(case, accumulating)
    if swapped:
        return "swapped_factor", swapped
    named = consistent_misconception(case, siblings)
    if named:
        return "wrong_derivative", named
    misdirected = causes.wrong_node(case)
    if misdirected:
        return "wrong_node", misdirected
    if all(close(s, p, **NUMERICAL) for s, p in zip(got, pre)):
        if not all(case.student.get("linked") or [True]):
            return "not_connected", "The inputs are not reachable from the output through `_prev`."
        return "no_gradient", "The inputs' gradients did not change at all."
    lost = [close(s, w - p, **NUMERICAL) and not close(s, w, **NUMERICAL) for s, w, p in zip(got, want, pre)]
    if probe.get("pre") and any(lost) and all(k or close(s, w, **NUMERICAL) for k, s, w in zip(lost, got, want)):
        return "overwrite", "The gradient the input already held was lost."
    repeated = len(probe["operands"]) == 2 and probe["operands"][0] == probe["operands"][1]
    if repeated and close(got[0], want[0] / 2, **NUMERICAL):
        symbol = {"add": "+", "mul": "*"}.get(probe["op"], probe["op"])
        return "overwrite", f"`a {symbol} a` must count both uses of a; yours kept only one."
    if g != 1 and all(close(s - p, (w - p) / g, **NUMERICAL) for s, w, p in zip(got, want, pre)):
        return "chain_rule_dropped", f"Your gradient is the local derivative alone, not multiplied by out.grad = {fmt(g)}."
    named = misconception(case, got)
    if named:
        return "wrong_derivative", named
    if all(close(s - p, -(w - p), **NUMERICAL) for s, w, p in zip(got, want, pre)):
        return "wrong_derivative", "The sign is flipped."
    return "wrong_derivative", None


def misconception(case: Case, got: list) -> str | None:
    """A known wrong formula that reproduces the student's local derivative on this case."""
    probe = case.probe
    if probe.get("check") == "number":
        return None
    pre = probe.get("pre") or [0.0] * len(got)
    local = [(s - p) / probe["g"] for s, p in zip(got, pre)]
    xs, out = probe["leaves"], case.reference.get("data")
    k = _exponent(probe)
    for text, formula in OPS[probe["op"]].misconceptions(xs, k, out):
        if len(formula) == len(local) and all(close(s, f, **NUMERICAL) for s, f in zip(local, formula)):
            return text
    return None


def consistent_misconception(case: Case, siblings: list[Case]) -> str | None:
    """A known wrong formula that reproduces *every* plain case of this op: strong enough evidence to name
    it even where it coincides with another pattern on one case (an inverted relu step gives 0 at x > 0)."""
    if case.probe.get("check") == "number" or not siblings:
        return None
    texts = None
    # Every plain case, and the case itself (with the grads it held before) where it is not one.
    for sibling in [*siblings, *([] if any(c is case for c in siblings) else [case])]:
        got = sibling.student.get("grads")
        if not isinstance(got, list):
            return None
        probe = sibling.probe
        local = [(s - p) / probe["g"] for s, p in zip(got, probe.get("pre") or [0.0] * len(got))]
        matching = {text for text, formula in OPS[probe["op"]].misconceptions(
                        probe["leaves"], _exponent(probe), sibling.reference.get("data"))
                    if len(formula) == len(local) and all(close(s, f, **NUMERICAL) for s, f in zip(local, formula))}
        texts = matching if texts is None else texts & matching
    return min(texts) if texts else None


def _exponent(probe: dict):
    return probe["operands"][1].get("const") if len(probe["operands"]) > 1 else None


def numerical_finding(ev: Evidence, case: Case, part: str) -> Finding | None:
    """The student's backward against a central difference of the student's own forward."""
    found = error_finding(ev, case, part)
    if found:
        return found
    fd = case.student.get("fd")
    if not isinstance(fd, list):
        return None  # no estimate without a working forward; the forward checks report that
    pre = case.probe.get("pre") or [0.0] * len(fd)
    estimate = [central_difference(plus, minus) for plus, minus in fd]
    want = [p + case.probe["g"] * e for p, e in zip(pre, estimate)]
    return gradient_finding(ev, case, part, want=want, numerical=estimate)


def link_finding(ev: Evidence, case: Case, part: str) -> Finding | None:
    found = error_finding(ev, case, part)
    if found and case.student.get("stage") != "backward":
        return found
    linked = case.student.get("linked")
    if isinstance(linked, list) and all(linked):
        return None
    return Finding("not_connected", f"`{case.label}`: the output's `_prev` does not contain its inputs, so "
                   "backward() never reaches them.", case=case.label,
                   where=statements.blame(ev, case.student.get("method_where"), statements.build_line))


def case_finding(ev: Evidence, case: Case, part: str) -> Finding | None:
    return forward_finding(ev, case, part) or gradient_finding(ev, case, part) or link_finding(ev, case, part)


def part_is_broken(ev: Evidence, part: str, method: str | None = None) -> bool:
    """Whether an op fails any of its own isolated cases (those reached through `method` only, when given):
    used to excuse the ops built on it, and to blame it for a graph that goes wrong around it."""
    key = ("broken", part, method)
    if key not in ev.memo:
        ev.memo[key] = False  # an op that (oddly) runs itself through another is not its own excuse
        ev.memo[key] = any(case_finding(ev, c, part) and not broken_bases(ev, c) for c in ev.cases(part, kind="op")
                           if method is None or c.probe.get("method") == method)
    return ev.memo[key]


def broken_bases(ev: Evidence, case: Case) -> list[str]:
    """The other ops this case really ran while being built (as the child observed) that fail their own
    cases in the same form (`a * b`, or `3.0 * a` through `__rmul__`)."""
    observe = case.probe.get("observe") or {}
    calls = case.student.get("calls") or []
    broken = []
    for method in calls:
        base = observe.get(method) if isinstance(method, str) else None
        if base and base != case.probe["op"] and base not in broken and part_is_broken(ev, base, method):
            broken.append(base)
    return broken


def blame_composite(ev: Evidence, case: Case, part: str, found: Finding | None) -> Finding | None:
    """An op failing because an op it is built on fails says so, instead of blaming itself."""
    if found is None:
        return found
    broken = broken_bases(ev, case)
    return built_on_broken(part, broken, found) if broken else found


def built_on_broken(part: str, broken: list[str], found: Finding) -> Finding:
    """`found`, blamed on the ops `part` is built on: fixing those comes first."""
    fail = "fails its own checks" if len(broken) == 1 else "fail their own checks"
    return Finding("built_on_broken", f"{part} is built on {' and '.join(broken)}, which {fail}: "
                   f"fix {broken[0]} first. ({found.message})", case=found.case, expected=found.expected,
                   got=found.got, where=found.where, built_on=tuple(broken), stubs=found.stubs)


# ----------------------------------------------------------------------------------------------
# Whole graphs: find the op whose gradient goes wrong first.

def graph_blame(ev: Evidence, case: Case) -> tuple[str, Finding] | None:
    """The op to blame for a wrong graph and why, or None when the graph is right."""
    s, r, probe = case.student, case.reference, case.probe
    nodes = probe["nodes"]
    label = f"in the graph `{case.label}`"
    if "error" in s and s.get("stage") == "forward":
        index = s.get("node", 0) if isinstance(s.get("node"), int) else 0
        op = suspect(ev, [nodes[min(index, len(nodes) - 1)][0]], [node[0] for node in nodes])
        return op, Finding("crash", f"{label}, building node {index + 1} ({op}) raises "
                           f"{s['error'].get('type')}: {s['error'].get('message')}", case=case.label,
                           where=ev.where(s["error"].get("where")), stubs=stub_tasks(s["error"]))
    data = s.get("data")
    for i, want in enumerate(r["data"]):
        got = data[i] if isinstance(data, list) and i < len(data) else None
        if not close(got, want, **REFERENCE):
            return suspect(ev, [nodes[i][0]], [node[0] for node in nodes]), Finding("wrong_forward", f"{label}, node {i + 1} ({nodes[i][0]}) holds {fmt(got)}, "
                                        f"expected {fmt(want)}.", case=case.label, expected=want, got=got,
                                        graph=graph_picture(probe, s, ("node", i), r))
    if "error" in s:
        op = suspect(ev, [nodes[-1][0]], [node[0] for node in nodes])
        return op, Finding("crash", f"{label}, backpropagation raises {s['error'].get('type')}: "
                           f"{s['error'].get('message')}", case=case.label, where=ev.where(s["error"].get("where")),
                           stubs=stub_tasks(s["error"]))
    refs = [("leaf", i) for i in range(len(probe["leaves"]))] + [("node", i) for i in range(len(nodes))]
    got_grads = {("leaf", i): g for i, g in enumerate(s.get("leaf_grads") or [])}
    got_grads.update({("node", i): g for i, g in enumerate(s.get("node_grads") or [])})
    want_grads = {("leaf", i): g for i, g in enumerate(r["leaf_grads"])}
    want_grads.update({("node", i): g for i, g in enumerate(r["node_grads"])})
    wrong = [ref for ref in refs if not close(got_grads.get(ref), want_grads[ref], **REFERENCE)]
    if not wrong:
        return None
    latest = wrong[-1]  # every node after it is right, so one of its consumers passed it a wrong gradient
    consumers = [i for i, (_, *operands) in enumerate(nodes) if {latest[0]: latest[1]} in operands]
    op = suspect(ev, [nodes[i][0] for i in consumers] or [nodes[-1][0]], [node[0] for node in nodes])
    uses = sum(operands.count({latest[0]: latest[1]}) for _, *operands in nodes)
    code = isolated_diagnosis(ev, op) or ("overwrite" if uses > 1 else "wrong_derivative")
    name = node_name(probe, latest)
    return op, Finding(code, f"{label}, the gradient first goes wrong at {name}, an input of {op}: "
                       f"{name}.grad = {fmt(got_grads.get(latest))}, expected {fmt(want_grads[latest])}.",
                       case=case.label, expected=want_grads[latest], got=got_grads.get(latest),
                       graph=graph_picture(probe, s, latest, r))


def suspect(ev: Evidence, consumer_ops: list[str], graph_ops: list[str]) -> str:
    """The op to blame: a consumer of the first wrong node that already fails in isolation, else any op of
    the graph that does (its bug explains the graph), else the last consumer (a bug only graphs reveal)."""
    for ops in (consumer_ops, graph_ops):
        broken = [op for op in ops if part_is_broken(ev, op) or part_bases(ev, op)]
        if broken:
            return broken[-1]
    return consumer_ops[-1]


def part_bases(ev: Evidence, part: str) -> list[str]:
    """The broken ops that any of this op's own cases really ran."""
    found: list[str] = []
    for case in ev.cases(part, kind="op"):
        found += [base for base in broken_bases(ev, case) if base not in found]
    return found


def blame_graph(ev: Evidence, part: str, found: Finding) -> Finding:
    """A graph gone wrong at an op that is fine on its own but built on a broken op blames that op."""
    broken = [] if part_is_broken(ev, part) else part_bases(ev, part)
    return built_on_broken(part, broken, found) if broken else found


def isolated_diagnosis(ev: Evidence, op: str) -> str | None:
    """The diagnosis the op's own isolated cases give, so a graph names the same bug they do."""
    for case in ev.cases(op, kind="op"):
        found = case_finding(ev, case, op)
        if found:
            return found.diagnosis
    return None


def node_name(probe: dict, ref: tuple[str, int]) -> str:
    kind, i = ref
    if kind == "leaf":
        return f"leaf {'abcdefgh'[i] if i < 8 else i}"
    return f"node {i + 1} ({probe['nodes'][i][0]})"


def graph_picture(probe: dict, student: dict, first_wrong: tuple[str, int], reference: dict | None = None) -> dict:
    """What a report needs to draw the failing graph with the first wrong node highlighted: the student's
    data and grads, and under "expected" the reference's."""
    picture = {"leaves": probe["leaves"], "nodes": probe["nodes"], "first_wrong": list(first_wrong),
               "data": student.get("data"), "leaf_grads": student.get("leaf_grads"),
               "node_grads": student.get("node_grads")}
    if reference is not None:
        picture["expected"] = {key: reference.get(key) for key in ("data", "leaf_grads", "node_grads")}
    return picture
