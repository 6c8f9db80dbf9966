"""The sandbox boundary, declared once: what the child sends, what an answer to each probe kind holds, and
what makes an answer complete. Standard library only (and its neighbour `contract`): the sandboxed child
imports this file too.

The child writes one JSON line per event to its results pipe:
  {"load": {"found": [...], "problems": [...], "shape": {...}, "ambiguous": [...]}}   once, after import
  {"start": i}                                            before probe i (a hang is known by number)
  {"i": i, "result": {...}}                               probe i's answer, or {"error": ERROR}
  {"done": true}                                          everything answered
ERROR is {"kind": one of ERROR_KINDS, "type": exception type, "message": text, "where": [file, line] | None},
and for a NameError or an ImportError "name", the name it is about.

Everything the child sends is untrusted: student code shares its process and can rewrite or forge it. The
judge compares every number with values it computed itself, so forged numbers must be right numbers. What
remains is the answer that leaves numbers out; a check that finds nothing to compare must not pass. So an
answer is either an error report or complete, with every number each check reads; anything else counts as
no answer at all (the probe "did not finish").

Before that, each line is read as what it is, untrusted bytes (the second half of this module): its length
(a forged line of megabytes is dropped), its nesting depth (counted without parsing, since `json.loads`
recurses in C and, with the recursion limit the grader raises for deep reference graphs, a line nested
99 000 deep would overflow the C stack and kill the grading process), the type of every record, the range
of every probe index, and the size of every value kept (strings, lists, paths). A record that fails costs
the submission that wrote it, with a reason.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from itertools import accumulate

try:
    from grader import contract
except ImportError:  # in the sandboxed child, beside contract.py
    import contract

MAX_TEXT = 300  # characters of any message the child sends

# Why a probe has no numbers. The child reports the first four; the parent adds the last three.
NOT_STARTED = "not_started"    # the stub still raises NotImplementedError
CRASH = "crash"                # student code raised
NOT_A_NUMBER = "not_a_number"  # a value is not a finite real number
MISSING = "missing"            # a name or method the probe needs is not there
TIMEOUT = "timeout"            # the probe overran its time
NO_ANSWER = "no_answer"        # the child died or sent nothing usable
NOT_A_VALUE = "not_a_value"    # an op returned something that is not one of the engine's nodes
ERROR_KINDS = (NOT_STARTED, CRASH, NOT_A_NUMBER, MISSING, TIMEOUT, NO_ANSWER, NOT_A_VALUE)


def error(kind: str, type_name: str, message: str = "", where: list | None = None) -> dict:
    return {"error": {"kind": kind, "type": type_name, "message": message[:MAX_TEXT], "where": where}}


INCOMPLETE = error(NO_ANSWER, "IncompleteAnswer", "the answer was incomplete")


def number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def numbers(xs, length: int | None = None) -> bool:
    return isinstance(xs, list) and (length is None or len(xs) == length) and all(map(number, xs))


def pairs(xs, length: int) -> bool:
    return isinstance(xs, list) and len(xs) == length and all(numbers(pair, 2) for pair in xs)


def flags(xs, length: int) -> bool:
    return isinstance(xs, list) and len(xs) == length and all(isinstance(x, bool) for x in xs)


def indices(xs, below: int) -> bool:
    return isinstance(xs, list) and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < below
                                        for i in xs)


def texts(xs) -> bool:
    return isinstance(xs, list) and all(isinstance(x, str) for x in xs)


def complete_op(probe: dict, answer: dict) -> bool:
    if answer.get("is_value") is False:  # returned something that is not a node: a complete (wrong) answer
        return isinstance(answer.get("returned"), str)
    n = len(probe["leaves"])
    reflected = probe.get("check") == "number" and "const" in probe["operands"][0]
    if reflected and not ("swapped" in answer and (answer["swapped"] is None or number(answer["swapped"]))):
        return False
    return (number(answer.get("data")) and numbers(answer.get("grads"), n) and pairs(answer.get("fd"), n)
            and flags(answer.get("linked"), n) and texts(answer.get("calls")) and number(answer.get("out_grad")))


def complete_graph(probe: dict, answer: dict) -> bool:
    n, data = len(probe["leaves"]), answer.get("data")
    return (numbers(data, len(probe["nodes"])) and numbers(answer.get("leaf_grads"), n)
            and numbers(answer.get("node_grads"), len(data)) and pairs(answer.get("fd"), n))


def chain_nodes(chain: dict) -> list[dict]:
    """The nodes of a chain probe from its description: a leaf, then each node the only child of the next,
    the weights taken in turn (both sides build them so, the child from the short form it is sent)."""
    weights = chain["weights"]
    nodes = [{"data": chain["data"], "children": [], "weights": []}]
    for i in range(1, chain["length"]):
        nodes.append({"data": chain["data"], "children": [i - 1], "weights": [weights[(i - 1) % len(weights)]]})
    return nodes


def complete_backward(probe: dict, answer: dict) -> bool:
    return (numbers(answer.get("grads")) and number(answer.get("out_grad"))
            and indices(answer.get("calls"), len(probe["nodes"])))


def complete_zero_grad(probe: dict, answer: dict) -> bool:
    n = len(probe["params"])
    return numbers(answer.get("grads"), n) and numbers(answer.get("data"), n)


def complete_zero_grad_nn(probe: dict, answer: dict) -> bool:
    models = answer.get("models")
    return isinstance(models, list) and len(models) == 3 and all(
        isinstance(m, dict) and isinstance(m.get("name"), str) and numbers(m.get("grads"))
        and numbers(m.get("data"), len(m.get("grads") or [])) and len(m["grads"]) > 0 for m in models)


def complete_train(probe: dict, answer: dict) -> bool:
    return (numbers(answer.get("losses")) and numbers(answer.get("weights"), len(probe["weights"]))
            and texts(answer.get("events")))


COMPLETE = {"op": complete_op, "graph": complete_graph, "backward": complete_backward,
            "zero_grad": complete_zero_grad, "zero_grad_nn": complete_zero_grad_nn, "train": complete_train}


def well_formed(probe: dict, answer) -> dict:
    """`answer` if it is an error report or a complete answer to `probe`; otherwise no answer."""
    if not isinstance(answer, dict):
        return INCOMPLETE
    err = answer.get("error")
    if err is not None:
        ok = (isinstance(err, dict) and err.get("kind") in ERROR_KINDS and isinstance(err.get("type", ""), str)
              and isinstance(err.get("message", ""), str))
        if ok and "node" in answer and not indices([answer["node"]], len(probe.get("nodes", ()))):
            answer = {**answer, "node": 0}  # where a graph's forward failed: a forged index points nowhere
        return answer if ok else INCOMPLETE
    return answer if COMPLETE[probe["kind"]](probe, answer) else INCOMPLETE


# ----------------------------------------------------------------------------------------------
# Reading the child's lines (in the parent)

MAX_LINE_BYTES = 128 * 1024  # the longest honest line (a training run's weights) is about 14 KB
MAX_DEPTH = 16  # honest records nest 4 deep
MAX_KEPT_TEXT = 500  # characters of any string kept
MAX_ITEMS = 10_000  # elements of any list kept; honest lists hold at most 2 500
MAX_KEYS = 64
MAX_PATH = 4096
MAX_PATH_PARTS = 128
MAX_PROBLEMS = 20
MAX_MODULES = 200  # staged files a load record may name as imported: the loader stages no more
SURROGATE = re.compile("[\ud800-\udfff]")
MAX_INT_DIGITS = 300  # a float holds no integer of more digits (its largest, about 1.8e308, has 309)

# Bytes that matter to nesting: quotes and brackets. Everything else is deleted before counting.
_OTHER_BYTES = bytes(b for b in range(256) if b not in b'"[]{}')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class BadRecord(ValueError):
    """A line from the child that is not a record of the protocol; the message says why, in plain words."""


@dataclass(frozen=True)
class Record:
    """One checked record: `kind` is "load", "start", "result" or "done"; `index` the probe, if any."""
    kind: str
    index: int | None = None
    value: dict | None = None


def nesting_depth(line: bytes) -> int:
    """How deep the brackets of `line` nest outside its strings, found without parsing it (or, for a line
    with few brackets, their number: a bound that is cheaper to get).

    Escaped backslashes and quotes are removed first (left to right, as JSON pairs them), so every quote
    left opens or closes a string. Invalid JSON may be counted deeper than the parser would go, never
    shallower, up to the point where the parser would stop."""
    opening = line.count(b"[") + line.count(b"{")
    if opening <= MAX_DEPTH:
        return opening
    bare = line.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _OTHER_BYTES)
    outside = b"".join(bare.split(b'"')[0::2])
    return max(accumulate(_STEP[b] for b in outside), default=0)


def parse_line(line: bytes) -> object:
    """The JSON value of one line, refused if it is too long or nested too deep for the parser."""
    if len(line) > MAX_LINE_BYTES:
        raise BadRecord(f"a result line of {len(line)} bytes, more than the {MAX_LINE_BYTES} allowed")
    if nesting_depth(line) > MAX_DEPTH:
        raise BadRecord(f"a result line nested more than {MAX_DEPTH} deep")
    try:
        return json.loads(line, parse_int=bounded_int)
    except (ValueError, RecursionError) as exc:
        raise BadRecord(f"a result line that is not JSON ({str(exc)[:80]})") from None


def bounded_int(digits: str) -> int | float:
    """A JSON integer as Python reads it, unless it is beyond a float's range: then the infinity it would be
    as a float, which no check takes for a number (an exact integer of a thousand digits would make the
    judge's float arithmetic raise instead)."""
    return int(digits) if len(digits) <= MAX_INT_DIGITS else float(digits)


def text(value: str, limit: int = MAX_KEPT_TEXT) -> str:
    """`value` cut to `limit` characters, as valid UTF-8: a lone surrogate (JSON can escape one) becomes U+FFFD,
    so no report, gradebook or terminal ever has to encode one."""
    value = value[:limit]
    if value.isascii():
        return value
    return SURROGATE.sub("\ufffd", value)


def validate_record(raw: object, probes: int, first: int) -> Record:
    """`raw` as a record of the protocol for a child answering probes `first` to `probes - 1`."""
    if not isinstance(raw, dict) or len(raw) > 2:
        raise BadRecord("a result line that is not a record")
    if set(raw) == {"load"}:
        return Record("load", value=bounded_load(raw["load"]))
    if set(raw) == {"start"}:
        return Record("start", index=probe_index(raw["start"], probes, first))
    if set(raw) == {"i", "result"}:
        if not isinstance(raw["result"], dict):
            raise BadRecord("a result that is not a record")
        return Record("result", index=probe_index(raw["i"], probes, first), value=bounded(raw["result"]))
    if set(raw) == {"done"}:
        if raw["done"] is not True:
            raise BadRecord("a `done` record that is not `true`")
        return Record("done")
    keys = ", ".join(sorted(map(str, raw))[:4])[:MAX_KEPT_TEXT // 5]
    raise BadRecord(f"a record of unknown kind ({keys})")


def probe_index(value: object, probes: int, first: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRecord("a probe number that is not an integer")
    if not first <= value < probes:
        raise BadRecord(f"probe number {value}, outside {first}..{probes - 1}")
    return value


def bounded(value: object, key: str = "") -> object:
    """A copy of `value` no bigger than the limits: strings cut, lists and records capped, paths checked."""
    if key == "where" or key.endswith("_where"):
        return where(value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [bounded(item) for item in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        return {text(k): bounded(v, k) for k, v in list(value.items())[:MAX_KEYS]}
    return value


def where(value: object) -> list | None:
    """A `[file, line]` the grader can afford to look up, or None."""
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
        return None
    path, line = value
    if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line < 10**9:
        return None
    if len(path) > MAX_PATH or path.count("/") > MAX_PATH_PARTS:
        return None
    return [text(path, MAX_PATH), line]


def relocated(record: Record, inside: str, outside: str) -> Record:
    """`record` with the paths a chrooted child reports (under `inside`) put back under `outside`."""
    def fix(value: object, key: str = "") -> object:
        if (key == "where" or key.endswith("_where")) and isinstance(value, list) and value:
            path = value[0]
            if isinstance(path, str) and (path == inside or path.startswith(inside + "/")):
                return [outside + path[len(inside):], *value[1:]]
            return value
        if isinstance(value, list):
            return [fix(item) for item in value]
        if isinstance(value, dict):
            return {k: fix(v, k) for k, v in value.items()}
        return value
    return Record(record.kind, record.index, fix(record.value) if record.value is not None else None)


def bounded_load(value: object) -> dict:
    """The load report: which names were found, and at most MAX_PROBLEMS import problems."""
    if not isinstance(value, dict):
        raise BadRecord("a load record that is not a record")
    found = value.get("found")
    problems = value.get("problems")
    if not isinstance(found, list) or not isinstance(problems, list):
        raise BadRecord("a load record without its lists of names and problems")
    shape = value.get("shape")
    ambiguous = value.get("ambiguous")
    return {"found": [name for name in contract.NAMES if name in found[:MAX_ITEMS]],
            "problems": [{k: v for k, v in bounded(p).items() if k != "note"}  # notes are the grader's to add
                         for p in problems[:MAX_PROBLEMS] if isinstance(p, dict)],
            "shape": {k: v for k, v in bounded(shape).items() if isinstance(v, str | None)}
            if isinstance(shape, dict) else {},
            "ambiguous": [a for a in bounded(ambiguous)[:MAX_PROBLEMS] if isinstance(a, str)]
            if isinstance(ambiguous, list) else [],
            "modules": [m for m in bounded(modules)[:MAX_MODULES] if isinstance(m, str)]
            if isinstance(modules := value.get("modules"), list) else []}
