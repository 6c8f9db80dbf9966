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

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from grader.data import REFERENCE_RESULTS_FILE
from grader.paths import REFERENCE_DIR
from grader.probes.plan import build_plan
from grader.probes.runners import raise_recursion_limit, run_probe

PACKAGE = REFERENCE_DIR / "micrograd"
KIT_FILE = Path(__file__).resolve().parent / "probes" / "kit.py"
KIT_NAMES = ("Value", "Module", "Neuron", "Layer", "MLP")
# The reference's own train() on the kit, with one thing changed: the loops the judge tells apart.
LOOP_VARIANTS = ("no_zero_grad", "two_steps")


class ReferenceMissing(RuntimeError):
    """Neither reference/ nor the data built from it is here."""


def has_reference() -> bool:
    """True in the instructor's checkout, False in the student edition."""
    return PACKAGE.is_dir()


@lru_cache(maxsize=1)
def reference_api() -> dict:
    """The reference's names, as the probe runners expect them (`kit` builds a fresh model kit).
    Only the instructor's checkout has them: raises ReferenceMissing in the student edition."""
    if not has_reference():
        raise ReferenceMissing(f"the reference solution is not installed here (no {PACKAGE})")
    namespace = {"__name__": "reference"}
    exec(compile(_engine_source(), str(PACKAGE / "engine.py"), "exec"), namespace)  # noqa: S102 - our own code
    train_namespace = {"__name__": "reference_train"}
    exec(compile((PACKAGE / "train.py").read_text(encoding="utf-8"), str(PACKAGE / "train.py"), "exec"),  # noqa: S102
         train_namespace)
    api = {name: namespace[name] for name in KIT_NAMES}
    api["train"] = train_namespace["train"]
    api["kit"] = make_kit
    return api


def _engine_source() -> str:
    """The reference's engine.py followed by its nn.py, without the import that joins them."""
    engine = (PACKAGE / "engine.py").read_text(encoding="utf-8")
    nn = (PACKAGE / "nn.py").read_text(encoding="utf-8")
    nn = re.sub(r"^from micrograd\.engine import Value\n", "", nn, flags=re.MULTILINE)
    return engine + "\n\n" + nn


@lru_cache(maxsize=1)
def kit_source() -> str:
    """The kit as one self-contained source (standard library only), for the sandboxed child."""
    return KIT_FILE.read_text(encoding="utf-8")


def make_kit() -> dict:
    """A fresh kit: its classes are new on every call, so instrumenting one leaks into no other."""
    namespace = {"__name__": "kit"}
    exec(_kit_code(), namespace)  # noqa: S102 - our own code
    return {name: namespace[name] for name in KIT_NAMES}


@lru_cache(maxsize=1)
def _kit_code():
    return compile(kit_source(), str(KIT_FILE), "exec")


@lru_cache(maxsize=1)
def reference_results() -> dict[str, dict]:
    """The reference's answers to the whole probe plan, by probe id, computed (or read) once per process."""
    if has_reference():
        raise_recursion_limit()
        api = reference_api()
        return {probe["id"]: run_probe(api, probe) for probe in build_plan()}
    return shipped_data()["results"]


@lru_cache(maxsize=1)
def known_loops() -> dict[str, dict[str, dict]]:
    """For every train probe of the plan and every LOOP_VARIANTS name, the losses and final weights of the
    reference's train() on the probe's model with that one change:

    - "no_zero_grad": the model's zero_grad() does nothing, so gradients pile up across steps;
    - "two_steps": the probe's loop stopped after two steps (its second loss is the loss after one update).
    """
    if not has_reference():
        return shipped_data()["loops"]
    train = reference_api()["train"]
    loops = {}
    for probe in build_plan():
        if probe["kind"] == "train":
            loops[probe["id"]] = {variant: _run_loop(train, probe, variant) for variant in LOOP_VARIANTS}
    return loops


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


def plan_digest() -> str:
    """A fingerprint of the probe plan: shipped answers are only valid for the plan they answer."""
    text = json.dumps(build_plan(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reference_data() -> dict:
    """What the student edition ships instead of the reference: every answer the judge compares with."""
    return {"plan": plan_digest(), "results": reference_results(), "loops": known_loops()}


@lru_cache(maxsize=1)
def shipped_data() -> dict:
    """The reference's answers as the student edition's build wrote them."""
    if not REFERENCE_RESULTS_FILE.is_file():
        raise ReferenceMissing(f"neither the reference solution ({PACKAGE}) nor its answers "
                               f"({REFERENCE_RESULTS_FILE}) are installed; build the student edition "
                               "with `make dist-student`")
    data = json.loads(REFERENCE_RESULTS_FILE.read_text(encoding="utf-8"))
    if data.get("plan") != plan_digest():
        raise ReferenceMissing(f"{REFERENCE_RESULTS_FILE} answers another probe plan than this grader's; "
                               "rebuild the student edition")
    return data
