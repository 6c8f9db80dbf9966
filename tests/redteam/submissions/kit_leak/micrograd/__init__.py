"""Red team: in the child that grades `train`, take the reference model kit it is handed and leak it:
copy it to /tmp, where the next submission's child could import it, and put its backward passes into the
error message of `train`, which lands in this student's own report."""
import sys

import micrograd.train
from micrograd.engine import Value

__all__ = ["Value"]

LEAK = "/tmp/micrograde-redteam-{run}-kit_leak.py"


def _child_config():
    """The sandboxed child's configuration, found in a frame up the stack (its `main`)."""
    frame = sys._getframe()
    while frame is not None:
        config = frame.f_locals.get("config")
        if isinstance(config, dict) and "probes" in config:
            return config
        frame = frame.f_back
    return None


_config = _child_config() or {}
_kit = _config.get("kit_source")
if isinstance(_kit, str):
    try:
        with open(LEAK, "x", encoding="utf-8") as _handle:
            _handle.write(_kit)
    except OSError:
        pass
    _excerpt = _kit[_kit.find("def __add__"):][:1000]

    def _leaking_train(model, xs, ys, steps=20, lr=0.05):
        raise RuntimeError(_excerpt)

    micrograd.train.train = _leaking_train
