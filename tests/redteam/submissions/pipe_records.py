"""Red team: at import, write malformed records to the grader's results pipe, then let the child go on.

The records are the manifest entry's `records`: a Python expression over `probes` (the child's probe list),
`skip` (the first probe this child answers) and `graph` (the numbers of its graph probes), giving an iterable of
records (dicts, written as JSON) and raw lines (bytes, written as they are), one line each; the string
"exit" ends the child there, so that no honest record follows the forged ones.
"""
import json
import os
import sys

from micrograd.engine import Value

__all__ = ["Value"]


def _child_config():
    """The sandboxed child's configuration, found in a frame up the stack (its `run`)."""
    frame = sys._getframe()
    while frame is not None:
        config = frame.f_locals.get("config")
        if isinstance(config, dict) and "probes" in config and "results_fd" in config:
            return config
        frame = frame.f_back
    return None


def _line(record):
    return (record if isinstance(record, bytes) else json.dumps(record).encode()) + b"\n"


_config = _child_config()
if _config is not None:
    probes, skip = _config["probes"], _config.get("skip", 0)
    graph = [i for i, probe in enumerate(probes) if probe["kind"] == "graph" and i >= skip]
    _pending, _exit = b"", False
    try:
        for _record in {records}:
            if _record == "exit":
                _exit = True
                break
            _pending += _line(_record)
            if len(_pending) > 1 << 20:
                os.write(_config["results_fd"], _pending)
                _pending = b""
        os.write(_config["results_fd"], _pending)
    except OSError:
        pass
    if _exit:
        os._exit(0)
