"""The reference engine, loaded in the grader's own process: the oracle every answer is compared with.

The grader imports only trusted code; this is the one place the reference is loaded. `kit_source`
is the reference's engine and nn as one self-contained source, handed to the child only while the
training loop is graded (a working model to train, so a broken engine never costs the loop's points).
"""
from __future__ import annotations

import importlib.util
import re
import sys
from functools import lru_cache
from pathlib import Path

from grader.paths import REFERENCE_DIR

PACKAGE = REFERENCE_DIR / "micrograd"
KIT_NAMES = ("Value", "Module", "Neuron", "Layer", "MLP")


def _load(name: str, path: Path, package: str):
    spec = importlib.util.spec_from_file_location(f"{package}.{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=1)
def reference_api() -> dict:
    """The reference's names, as the probe runners expect them (`kit` builds a fresh model kit)."""
    namespace = {}
    exec(compile(kit_source(), str(PACKAGE / "engine.py"), "exec"), namespace)  # noqa: S102 - our own code
    train_namespace = {"__name__": "reference_train"}
    exec(compile((PACKAGE / "train.py").read_text(encoding="utf-8"), str(PACKAGE / "train.py"), "exec"),  # noqa: S102
         train_namespace)
    api = {name: namespace[name] for name in KIT_NAMES}
    api["train"] = train_namespace["train"]
    api["kit"] = make_kit
    return api


def make_kit() -> dict:
    namespace = {"__name__": "kit"}
    exec(compile(kit_source(), "<kit>", "exec"), namespace)  # noqa: S102 - our own code
    return {name: namespace[name] for name in KIT_NAMES}


@lru_cache(maxsize=1)
def kit_source() -> str:
    """engine.py followed by nn.py, without the import that joins them."""
    engine = (PACKAGE / "engine.py").read_text(encoding="utf-8")
    nn = (PACKAGE / "nn.py").read_text(encoding="utf-8")
    nn = re.sub(r"^from micrograd\.engine import Value\n", "", nn, flags=re.MULTILINE)
    return engine + "\n\n" + nn
