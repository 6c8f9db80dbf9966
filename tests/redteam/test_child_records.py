"""Every byte from the sandboxed child is untrusted: the checks a line passes before and after it is parsed.

The hand-ins that write such lines (manifest entries of form "pipe-records") are graded in the red-team
batch of tests/test_redteam.py; here each defence is tried alone, and `micrograde check` on one of them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from redteam.build import REPO_DIR, build_hostile, load_hostiles

from grader.protocol import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_KEPT_TEXT,
    MAX_LINE_BYTES,
    BadRecord,
    bounded,
    nesting_depth,
    parse_line,
    validate_record,
)
from grader.sandbox.process import ChildRun, LineReader, charge_refused

DEEP = b"[" * 99000 + b"]" * 99000
PIPE_RECORDS = [h for h in load_hostiles() if h.form == "pipe-records"]


def test_nesting_is_counted_outside_strings_only():
    assert nesting_depth(b'{"a": [[1, 2], [3]]}') <= MAX_DEPTH
    assert nesting_depth(b'{"fd": [' + b"[1, 2], " * 30 + b"[3, 4]]}") == 3
    assert nesting_depth(b'{"a": "' + b"[" * 500 + b'"}') <= MAX_DEPTH
    assert nesting_depth(b'["\\"' + b"[" * 500 + b'"]') <= MAX_DEPTH  # an escaped quote does not end the string
    assert nesting_depth(b'["\\\\", ' + b"[" * 500 + b"]" * 500 + b"]") > MAX_DEPTH  # an escaped backslash does
    assert nesting_depth(b"[" * 60000 + b"]" * 60000) > MAX_DEPTH
    assert nesting_depth(b'{"x": ' + b"[" * 20 + b"1" + b"]" * 20 + b"}") == 21


@pytest.mark.parametrize("line", [DEEP, b"[" * 60000 + b"]" * 60000, b"[" * 60000, b'{"a": ' + b"{" * 50000])
def test_a_deep_or_long_line_never_reaches_the_parser(line, monkeypatch):
    from grader import protocol as records

    monkeypatch.setattr(records.json, "loads", lambda _: pytest.fail("json.loads was called"))
    with pytest.raises(BadRecord):
        parse_line(line)


def test_the_deep_line_is_refused_with_the_recursion_limit_the_grader_sets():
    """With the limit raised to 100 000, json.loads on this line would overflow the C stack and end the process."""
    script = ("from grader.probes.runners import raise_recursion_limit\n"
              "from grader.protocol import BadRecord, parse_line\n"
              "raise_recursion_limit()\n"
              "for line in (b'[' * 99000 + b']' * 99000, b'[' * 60000 + b']' * 60000):\n"
              "    try:\n        parse_line(line)\n    except BadRecord as exc:\n        print(exc)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == [f"a result line of {len(DEEP)} bytes, more than the {MAX_LINE_BYTES} allowed",
                                       f"a result line nested more than {MAX_DEPTH} deep"]


@pytest.mark.parametrize("raw, reason", [
    ({"start": "x"}, "not an integer"), ({"start": -1}, "outside"), ({"start": 70}, "outside"),
    ({"start": 2}, "outside"),  # before the first probe of this child
    ({"start": True}, "not an integer"), ({"i": "3", "result": {}}, "not an integer"),
    ({"i": 3.0, "result": {}}, "not an integer"), ({"i": 10**6, "result": {}}, "outside"),
    ({"i": 4, "result": [1]}, "not a record"), ({"done": "yes"}, "not `true`"), ({"done": 1}, "not `true`"),
    ({"verdict": "passed"}, "unknown kind"), ([1, 2], "not a record"), ("done", "not a record"),
    ({"load": []}, "not a record"), ({"load": {"found": "Value"}}, "lists"),
    ({"start": 4, "i": 4, "result": {}}, "not a record"),
])
def test_a_record_of_the_wrong_shape_is_refused(raw, reason):
    with pytest.raises(BadRecord, match=reason):
        validate_record(raw, probes=70, first=3)


def test_honest_records_pass():
    assert validate_record({"start": 3}, 70, 3).index == 3
    assert validate_record({"i": 69, "result": {"data": 1.5}}, 70, 3).value == {"data": 1.5}
    assert validate_record({"done": True}, 70, 3).kind == "done"
    load = validate_record({"load": {"found": ["Value", "MLP", "Hack"], "problems": [{"type": "E"}, 3]}}, 70, 0)
    assert load.value == {"found": ["Value", "MLP"], "problems": [{"type": "E"}], "shape": {}, "ambiguous": [],
                          "modules": []}


def test_numbers_beyond_a_float_and_lone_surrogates_are_bounded_at_the_boundary():
    raw = parse_line(b'{"i": 5, "result": {"data": ' + b"9" * 400 + b', "small": 12, "m": "a\\ud800b", "\\udfff": 1}}')
    value = validate_record(raw, 70, 3).value
    assert value["data"] == float("inf") and value["small"] == 12 and type(value["small"]) is int
    assert value["m"] == "a\ufffdb" and "\ufffd" in value
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # encodable wherever it is written


def test_kept_values_are_bounded():
    kept = bounded({"message": "m" * 10**6, "events": ["e"] * (MAX_ITEMS * 3), "x" * 10**4: 1,
                    "error": {"where": ["/a" * 200_000, 1]}, "method_where": ["f.py", "7"],
                    "backward_where": ["/s/engine.py", 12]})
    assert len(kept["message"]) == MAX_KEPT_TEXT
    assert len(kept["events"]) == MAX_ITEMS
    assert max(map(len, kept)) == MAX_KEPT_TEXT
    assert kept["error"]["where"] is None and kept["method_where"] is None
    assert kept["backward_where"] == ["/s/engine.py", 12]
    assert len(json.dumps(bounded({f"k{i}": "v" * 10**5 for i in range(1000)}))) < 64 * (MAX_KEPT_TEXT + 20)


def test_an_over_long_line_is_skipped_as_it_arrives():
    read, write = os.pipe()
    reader = LineReader(read)
    lines = []
    try:
        os.write(write, b'{"start": 0}\n' + b"x" * 40_000)
        for _ in range(6):  # 240 KB more of the same line, read as it comes
            lines += reader.read()[0]
            os.write(write, b"x" * 40_000)
        os.write(write, b'\n{"start": 1}\n')
        os.close(write)
        write = -1
        ended = False
        while not ended:
            received, ended = reader.read()
            lines += received
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)
    assert lines[0] == b'{"start": 0}' and lines[-1] == b'{"start": 1}'
    assert len(lines) == 3 and len(lines[1]) == MAX_LINE_BYTES + 1
    assert len(reader.partial) == 0


def test_a_refused_record_costs_its_probe_and_is_named_in_the_load_report():
    run = ChildRun(results={4: {"data": 1.0}}, load={"found": ["Value"], "problems": []})
    run.refuse(4, "a probe number that is not an integer")
    run.refuse(4, "something later")
    charge_refused(run)
    assert run.results[4]["error"]["type"] == "MalformedRecord"
    assert run.results[4]["error"]["message"] == "the child wrote a probe number that is not an integer"
    assert run.load["problems"][-1]["message"] == "the child wrote a probe number that is not an integer"


@pytest.mark.parametrize("hostile", [h for h in PIPE_RECORDS if h.name in ("record_deep_nesting", "record_graph_node")],
                         ids=lambda h: h.name)
def test_check_of_a_record_forger_is_a_clean_report(tmp_path, hostile):
    """`micrograde check` (in a process whose recursion limit is raised) reports, without our traceback."""
    hand_in = build_hostile(hostile, tmp_path, "check")
    run = subprocess.run([sys.executable, "-m", "grader", "check", str(hand_in), "--format", "json",
                          "--probe-seconds", "1", "--time-limit", "10"], cwd=REPO_DIR, capture_output=True, text=True,
                         timeout=300, check=False, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stdout + run.stderr and "INTERNALERROR" not in run.stdout
    report = json.loads(run.stdout)
    assert report["status"] == "graded" and report["score"] <= 15
    if hostile.expect:
        assert hostile.expect in run.stdout
