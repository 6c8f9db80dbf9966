"""Red team: the first backward of the submission hangs (at most 30 s), while a thread keeps writing `start`
records for the probes after it to the results pipe, as if each began in turn, to keep the probe's clock
from running out. Later children (the staged copy holds a marker) run honestly."""
import json
import os
import sys
import threading
import time

from micrograd.engine import Value

__all__ = ["Value"]

MARKER = "hung-once"
_backward = Value.backward


def _child_frame():
    """The sandboxed child's `run` frame: its configuration, and the number of the probe under way."""
    frame = sys._getframe()
    while frame is not None:
        config = frame.f_locals.get("config")
        if isinstance(config, dict) and "probes" in config and "results_fd" in config:
            return frame
        frame = frame.f_back
    return None


_frame = _child_frame()
_config = _frame.f_locals["config"] if _frame is not None else None


def _spam_starts(first):
    for index in range(first, len(_config["probes"])):
        time.sleep(0.3)
        try:
            os.write(_config["results_fd"], json.dumps({"start": index}).encode() + b"\n")
        except OSError:
            return


def _hanging_backward(self):
    if _config is not None and not os.path.exists(MARKER):
        open(MARKER, "w").close()
        under_way = _child_frame().f_locals.get("i", 0)
        threading.Thread(target=_spam_starts, args=(under_way + 1,), daemon=True).start()
        time.sleep(30)
    return _backward(self)


Value.backward = _hanging_backward
