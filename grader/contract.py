"""The contract a submission is graded on, declared once: the package `micrograd/`, its three files and the
names each defines (in the order the lecture builds them), and the names of a `Value`'s parts.

A hand-in may also be one .py file or notebook defining the same names. An engine written under other names
is still graded: the shape discovery (grader/probes/shape.py) tries these names first and accepts another
only when an experiment shows it plays the role; an assignment with `strict_names = true` accepts these
alone.

Standard library only, and nothing of the grader: the sandboxed child imports this file too, from its
runtime folder (grader/sandbox/process.py, RUNTIME_FILES).
"""
from __future__ import annotations

PACKAGE = "micrograd"
VALUE = "Value"
TRAIN = "train"
ENGINE_FILE = "engine.py"

# Each file of the package and the names it defines.
FILES: dict[str, tuple[str, ...]] = {
    ENGINE_FILE: (VALUE,),
    "nn.py": ("Module", "Neuron", "Layer", "MLP"),
    "train.py": (TRAIN,),
}
# Every name a submission is graded on: Value, Module, Neuron, Layer, MLP, train.
NAMES: tuple[str, ...] = tuple(name for names in FILES.values() for name in names)
# The network's classes, and a model's: what the training kit hands the `train` probes, working.
NN_CLASSES: tuple[str, ...] = FILES["nn.py"]
MODEL_CLASSES: tuple[str, ...] = (VALUE, *NN_CLASSES)

# The engine's roles by the lecture's names: its class, a node's number and gradient, its inputs, the closure
# that passes its gradient on, and backpropagation (a method of the output node).
ENGINE_NAMES: dict[str, str] = {"value_class": VALUE, "data": "data", "grad": "grad", "children": "_prev",
                                "closure": "_backward", "backward": "backward"}


def module_name(file: str) -> str:
    """The module a file of the package is imported as: "engine.py" -> "micrograd.engine"."""
    return f"{PACKAGE}.{file.removesuffix('.py')}"
