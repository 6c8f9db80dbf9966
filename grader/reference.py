"""The reference's answers, and the model kit every training loop is graded on.

In the instructor's checkout, the reference engine is loaded here, in the grader's own process (the one
place it is loaded), and answers the whole probe plan. The student edition has no reference/: the same
answers come from `grader/data/reference_results.json`, written from the reference when the edition was
built (`make dist-student`), so both editions judge against identical numbers.

The kit is not the reference: `grader/probes/kit.py` is a forward-mode engine with micrograd's API, handed
as source to the child while the training loop is graded (a working model to train, so a broken engine
never costs the loop's points) and used here to build models for the judge.
"""
from __future__ import annotations

import copy
import json
import math
import operator
import re
from functools import lru_cache
from pathlib import Path

from grader.assignment import Assignment
from grader.contract import ENGINE_FILE, MODEL_CLASSES, PACKAGE
from grader.data import REFERENCE_RESULTS_FILE
from grader.parts import OPS, assignment_ops, is_op
from grader.paths import REFERENCE_DIR
from grader.probes.plan import Plan, build_plan
from grader.probes.runners import raise_recursion_limit, run_probe
from grader.probes.shape import discover
from grader.secret import inputs_seed, instructor_secret

REFERENCE_PACKAGE = REFERENCE_DIR / PACKAGE
# The file name the reference's code carries: the same wherever the checkout is, so the answers the student
# edition ships (which name the file a backward was found in) hold no path of the machine that built them.
SOURCE_NAME = f"reference/{PACKAGE}/{{}}"
KIT_FILE = Path(__file__).resolve().parent / "probes" / "kit.py"
# The reference's own train() on the kit, with one thing changed: the loops the judge tells apart.
LOOP_VARIANTS = ("no_zero_grad", "two_steps")


class ReferenceMissing(RuntimeError):
    """Neither reference/ nor the data built from it is here."""


def has_reference() -> bool:
    """True in the instructor's checkout, False in the student edition."""
    return REFERENCE_PACKAGE.is_dir()


@lru_cache(maxsize=1)
def reference_api() -> dict:
    """The reference's names, as the probe runners expect them (`kit` builds a fresh model kit).
    Only the instructor's checkout has them: raises ReferenceMissing in the student edition."""
    if not has_reference():
        raise ReferenceMissing(f"the reference solution is not installed here (no {REFERENCE_PACKAGE})")
    namespace = {"__name__": "reference"}
    exec(compile(_engine_source(), SOURCE_NAME.format(ENGINE_FILE), "exec"), namespace)  # noqa: S102 - our own code
    train_namespace = {"__name__": "reference_train"}
    train_code = (REFERENCE_PACKAGE / "train.py").read_text(encoding="utf-8")
    exec(compile(train_code, SOURCE_NAME.format("train.py"), "exec"), train_namespace)  # noqa: S102 - our own code
    api = {name: namespace[name] for name in MODEL_CLASSES}
    api["train"] = train_namespace["train"]
    api["kit"] = make_kit
    api["engine"], _ = discover([api["Value"]], {})
    return api


def _engine_source() -> str:
    """The reference's engine.py followed by its nn.py, without the import that joins them."""
    engine = (REFERENCE_PACKAGE / ENGINE_FILE).read_text(encoding="utf-8")
    nn = (REFERENCE_PACKAGE / "nn.py").read_text(encoding="utf-8")
    nn = re.sub(rf"^from {PACKAGE}\.engine import Value\n", "", nn, flags=re.MULTILINE)
    return engine + "\n\n" + nn


@lru_cache(maxsize=1)
def kit_source() -> str:
    """The kit as one self-contained source (standard library only), for the sandboxed child."""
    return KIT_FILE.read_text(encoding="utf-8")


def make_kit() -> dict:
    """A fresh kit: its classes are new on every call, so instrumenting one leaks into no other."""
    namespace = {"__name__": "kit"}
    exec(_kit_code(), namespace)  # noqa: S102 - our own code
    return {name: namespace[name] for name in MODEL_CLASSES}


@lru_cache(maxsize=1)
def _kit_code():
    return compile(kit_source(), str(KIT_FILE), "exec")


def reference_forward(op: str, args: list) -> float | None:
    """The reference's value of one op on plain floats, or None where it is undefined: what keeps a plan's
    graphs inside every op's domain (the forward is never written anywhere but in reference/)."""
    Value = reference_api()["Value"]
    try:
        values = [Value(a) if i == 0 or not OPS[op].exponent else a for i, a in enumerate(args)]
        via, name = OPS[op].syntax
        out = getattr(operator, name)(*values) if via == "operator" else getattr(values[0], name)(*values[1:])
        data = out.data
    except (ArithmeticError, ValueError, TypeError):
        return None
    return float(data) if isinstance(data, int | float) and math.isfinite(data) else None


def public_plan(assignment: Assignment) -> Plan:
    """The plan every student edition checks with: the declared public points and the public seed."""
    if has_reference():
        return _plan(assignment_ops(part.id for part in assignment.parts), parts_of(assignment), None)
    data = shipped_data()
    return Plan(tuple(data["probes"]), tuple(data["ops"]), public=True)


def grading_plan(assignment: Assignment, seed: int | None) -> Plan:
    """The plan of one grading: drawn from `seed` (the instructor's secret inputs), else the public one.
    Without reference/, a seed picks one of the shipped secret plans, where there are any."""
    if seed is not None and not has_reference():
        return shipped_plan(seed) or public_plan(assignment)
    if seed is None:
        return public_plan(assignment)
    return _plan(assignment_ops(part.id for part in assignment.parts), parts_of(assignment), seed)


def parts_of(assignment: Assignment) -> tuple[str, ...]:
    return tuple(part.id for part in assignment.parts if not is_op(part.id))


@lru_cache(maxsize=8)
def _plan(ops: tuple[str, ...], parts: tuple[str, ...], seed: int | None) -> Plan:
    return build_plan(ops, reference_forward, seed, parts)


class Answers(dict):
    """The reference's answers to one plan, by probe id, each computed the first time it is read: a check
    of one task (`--part`) pays only for the answers its checks read."""

    def __init__(self, probes) -> None:
        super().__init__()
        self._probes = {probe["id"]: probe for probe in probes}

    def __missing__(self, probe_id: str) -> dict:
        if probe_id not in self._probes:
            raise KeyError(probe_id)
        self[probe_id] = answer = answer_to(self._probes[probe_id])
        return answer

    def get(self, probe_id: str, default=None):
        return self[probe_id] if probe_id in self or probe_id in self._probes else default

    def complete(self, probe_ids=None) -> Answers:
        for probe_id in self._probes if probe_ids is None else probe_ids:
            self[probe_id]  # computed and kept by __missing__
        return self


_answers: dict[str, dict[str, dict]] = {}


def reference_answers(plan: Plan) -> dict[str, dict]:
    """The reference's answers to `plan`, by probe id, computed as they are read and kept for the plan (or
    read from the student edition's data, where a train probe's answer also holds its `loops`, see
    `known_loops`)."""
    if plan.digest not in _answers:
        if len(_answers) >= 8:
            _answers.pop(next(iter(_answers)))
        _answers[plan.digest] = _shipped_results(plan) if not has_reference() else Answers(plan.probes)
    return _answers[plan.digest]


def reference_results(plan: Plan) -> dict[str, dict]:
    """Every answer of the reference to `plan`, by probe id."""
    return complete(reference_answers(plan))


def complete(answers: dict[str, dict], probe_ids=None) -> dict[str, dict]:
    """`answers` with those to `probe_ids` (all, by default) computed."""
    return answers.complete(probe_ids) if isinstance(answers, Answers) else answers


def _shipped_results(plan: Plan) -> dict[str, dict]:
    data = shipped_data()
    if plan.digest != data["plan"]:
        raise ReferenceMissing("the student edition holds the reference's answers to its public plan only")
    return data["results"]


_by_probe: dict[str, dict] = {}


def answer_to(probe: dict) -> dict:
    """The reference's answer to one probe; for a probe every plan shares (`shared`: the deep chain), computed
    once per process."""
    if not probe.get("shared"):
        return _run(probe)
    if probe["id"] not in _by_probe:
        _by_probe[probe["id"]] = _run(probe)
    return copy.deepcopy(_by_probe[probe["id"]])


def _run(probe: dict) -> dict:
    raise_recursion_limit()
    answer = run_probe(reference_api(), probe)
    if probe["kind"] == "backward":
        # The order of the reference's own calls follows its sets' memory addresses, and the judge never
        # reads it: kept sorted, so the same plan always has the same answers, byte for byte.
        answer["calls"] = sorted(answer["calls"])
    return answer


def known_loops(probe: dict) -> dict[str, dict]:
    """The losses and final weights of the reference's train() on the probe's model with one change, for
    each LOOP_VARIANTS name:

    - "no_zero_grad": the model's zero_grad() does nothing, so gradients pile up across steps;
    - "two_steps": the probe's loop stopped after two steps (its second loss is the loss after one update).
    """
    train = reference_api()["train"]
    return {variant: _run_loop(train, probe, variant) for variant in LOOP_VARIANTS}


def _run_loop(train, probe: dict, variant: str) -> dict:
    model = model_for(probe)
    kwargs = {key: probe[key] for key in ("steps", "lr") if key in probe}
    if variant == "no_zero_grad":
        model.zero_grad = lambda: None
    elif variant == "two_steps":
        kwargs["steps"] = 2
    losses = train(model, [list(x) for x in probe["xs"]], list(probe["ys"]), **kwargs)
    return {"losses": [float(loss) for loss in losses], "weights": [float(p.data) for p in model.parameters()]}


def model_for(probe: dict):
    """The train probe's MLP, built from a fresh kit and set to the probe's starting weights."""
    model = make_kit()["MLP"](probe["nin"], list(probe["nouts"]))
    for p, w in zip(model.parameters(), probe["weights"]):
        p.data = w
    return model


def reference_data(assignment: Assignment, secret_plans: int = 0) -> dict:
    """What a grader without reference/ ships instead: the public plan and every answer to it, and, for
    one that students never see (the Gradescope zip), `secret_plans` plans drawn from the instructor's
    secret with their answers."""
    data = plan_data(public_plan(assignment))
    if secret_plans:
        secret = instructor_secret(assignment.secret_dir)
        data["secret_plans"] = [plan_data(grading_plan(assignment, inputs_seed(secret, assignment.id, "pool", str(i))))
                                for i in range(secret_plans)]
    return data


def plan_data(plan: Plan) -> dict:
    """A plan and the reference's answers to it, a train probe's with its `loops` (see `known_loops`)."""
    results = {probe_id: dict(answer) for probe_id, answer in reference_results(plan).items()}
    for probe in plan.probes:
        if probe["kind"] == "train":
            results[probe["id"]]["loops"] = known_loops(probe)
    return {"plan": plan.digest, "ops": list(plan.ops), "probes": list(plan.probes), "results": results}


def shipped_plan(seed: int) -> Plan | None:
    """Without reference/: one of the secret plans the data carries (chosen by `seed`), if it carries any."""
    pool = shipped_data().get("secret_plans") or []
    if not pool:
        return None
    chosen = pool[seed % len(pool)]
    plan = Plan(tuple(chosen["probes"]), tuple(chosen["ops"]), public=False)
    _answers[plan.digest] = chosen["results"]
    return plan


@lru_cache(maxsize=1)
def shipped_data() -> dict:
    """The reference's answers as the student edition's build wrote them."""
    if not REFERENCE_RESULTS_FILE.is_file():
        raise ReferenceMissing(f"neither the reference solution ({REFERENCE_PACKAGE}) nor its answers "
                               f"({REFERENCE_RESULTS_FILE}) are installed; build the student edition "
                               "with `make dist-student`")
    data = json.loads(REFERENCE_RESULTS_FILE.read_text(encoding="utf-8"))
    if Plan(tuple(data.get("probes", ())), tuple(data.get("ops", ())), public=True).digest != data.get("plan"):
        raise ReferenceMissing(f"{REFERENCE_RESULTS_FILE} does not hold the plan it answers; rebuild the student "
                               "edition")
    return data
