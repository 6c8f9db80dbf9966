"""The corpus of engines in other shapes (tests/corpus/shapes.toml) is itself sound.

Every shape is a correct engine under the names it declares, checked by tests/shape_validator.py against
finite differences, a deep chain, the submission's own modules and the reference's training losses; every
shape mutant is one exact edit of its shape and fails in its declared part, with the evidence its diagnosis
describes. All files are validated in one subprocess; none of this needs the grader.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_tools as ct

SHAPES_DIR = ct.CORPUS_DIR / "shapes"
VALIDATOR = ct.TESTS_DIR / "shape_validator.py"
MARKER = "@@shape-validator-results@@"  # what shape_validator.py prints before its JSON
SHAPES = ct.load_shapes()
MUTANTS = ct.load_shape_mutants()
SHAPES_BY_NAME = {shape["name"]: shape for shape in SHAPES}
NAME_KEYS = ("value_class", "children", "data", "grad", "backward", "style")
STYLES = ("closures", "local_grads")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")

# The proof: at least these shapes and these bug classes (part, diagnosis) over them.
REQUIRED_CHILDREN = {"_children", "_parents", "_creator", "came_from", "prev", "operands", "_prev"}
REQUIRED_CONTAINERS = {"set", "list", "tuple", "frozenset"}
REQUIRED_MUTANTS = {
    ("add", "overwrite"): 2, ("mul", "overwrite"): 2,
    # A derivative that uses the input where the output belongs (tanh, exp), or the wrong input (mul), is
    # a swapped factor; the missing k of pow is a wrong derivative.
    ("tanh", "swapped_factor"): 2, ("exp", "swapped_factor"): 2, ("pow", "wrong_derivative"): 2,
    ("mul", "swapped_factor"): 1, ("backward", "wrong_gradient"): 1,
    ("sub", "swapped_operands"): 2, ("div", "wrong_forward"): 2,
    ("zero_grad", "misses_parameters"): 2,
}
REQUIRED_NOT_CONNECTED = 2  # detached ops, over several parts


# ------------------------------------------------------------------------------------------ evidence

def _failing(result: dict, part: str) -> list[dict]:
    return [case for case in result["cases"] if case["part"] == part and not case["ok"]]


def _shows_overwrite(failing: list[dict]) -> bool:
    """Only where a value is used twice are the gradients wrong: each use replaced the other's."""
    return any(c["kind"] == "gradient" for c in failing) and all(c["repeated"] for c in failing)


def _shows_wrong_derivative(failing: list[dict]) -> bool:
    """Right values, wrong gradients, already where every value is used once."""
    return (any(c["kind"] == "gradient" and not c["repeated"] for c in failing)
            and not any(c["kind"] in ("forward", "disconnected", "crash") for c in failing))


def _shows_not_connected(failing: list[dict]) -> bool:
    """Right values, and the inputs receive no gradient at all."""
    return any(c["kind"] == "disconnected" for c in failing) and not any(c["kind"] == "forward" for c in failing)


def _shows_wrong_forward(failing: list[dict]) -> bool:
    return any(c["kind"] == "forward" for c in failing)


def _shows_wrong_gradient(failing: list[dict]) -> bool:
    return any(c["kind"] == "gradient" for c in failing)


def _shows_not_seeded(failing: list[dict]) -> bool:
    return any(c["case"] == "seed" for c in failing)


def _shows_misses_parameters(failing: list[dict]) -> bool:
    return any(c["kind"] in ("kept_grad", "parameters_incomplete") for c in failing)


def _shows_wrong_training(failing: list[dict]) -> bool:
    return any(c["kind"] in ("losses", "parameters") for c in failing)


EVIDENCE = {
    "overwrite": _shows_overwrite,
    "wrong_derivative": _shows_wrong_derivative,
    "swapped_factor": _shows_wrong_derivative,
    "not_connected": _shows_not_connected,
    "wrong_forward": _shows_wrong_forward,
    "swapped_operands": _shows_wrong_forward,
    "wrong_gradient": _shows_wrong_gradient,
    "not_seeded": _shows_not_seeded,
    "misses_parameters": _shows_misses_parameters,
    **{code: _shows_wrong_training for code in ("no_zero_grad", "zero_grad_after_backward", "wrong_sign_update",
                                                "lr_ignored")},
}


# ---------------------------------------------------------------------------------------- the toml

def _occurrences_as_lines(text: str, snippet: str) -> int:
    """How often `snippet` occurs in `text` starting at the beginning of a line."""
    return ("\n" + text).count("\n" + snippet)


def test_every_shape_file_is_listed_once():
    listed = Counter(shape["submission"] for shape in SHAPES)
    on_disk = {f"shapes/{path.name}" for path in SHAPES_DIR.glob("*.py")}
    assert set(listed) == on_disk
    assert all(count == 1 for count in listed.values()), listed


def test_names_are_unique():
    names = [entry["name"] for entry in SHAPES + MUTANTS]
    assert len(names) == len(set(names)), [n for n, k in Counter(names).items() if k > 1]


@pytest.mark.parametrize("shape", SHAPES, ids=[s["name"] for s in SHAPES])
def test_shape_declares_complete_names(shape):
    assert shape["why"].strip()
    names = shape["names"]
    assert set(NAME_KEYS) <= set(names), set(NAME_KEYS) - set(names)
    assert names["style"] in STYLES
    assert ("local_grads" in names) == (names["style"] == "local_grads")
    assert "closure" not in names or names["style"] == "closures"
    assert set(names) <= set(NAME_KEYS) | {"local_grads", "closure"}, set(names) - set(NAME_KEYS)
    backward = names["backward"].removeprefix("function:")
    for key, value in {**names, "backward": backward}.items():
        if key != "style":
            assert IDENTIFIER.match(value), f"{key} = {value!r} is not a Python name"
    source = (ct.CORPUS_DIR / shape["submission"]).read_text(encoding="utf-8")
    assert re.search(rf"^class {re.escape(names['value_class'])}\b", source, re.MULTILINE)
    if names["backward"].startswith("function:"):
        assert re.search(rf"^def {backward}\(", source, re.MULTILINE)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m["name"] for m in MUTANTS])
def test_mutant_is_one_exact_edit(mutant):
    assert mutant["shape"] in SHAPES_BY_NAME, f"no shape named {mutant['shape']!r}"
    assert mutant["part"] in ct.PART_IDS
    assert mutant["diagnosis"] in ct.DIAGNOSES[mutant["part"]]
    assert mutant["diagnosis"] in EVIDENCE, "the test knows no evidence for this diagnosis yet"
    assert mutant["why"].strip()
    find, replace = mutant["find"], mutant["replace"]
    assert find.endswith("\n") and (replace == "" or replace.endswith("\n")), "whole lines, newline included"
    assert find != replace
    source = (ct.CORPUS_DIR / SHAPES_BY_NAME[mutant["shape"]]["submission"]).read_text(encoding="utf-8")
    assert source.count(find) == 1, f"the find snippet occurs {source.count(find)} times"
    assert _occurrences_as_lines(source, find) == 1, "the find snippet must start at the beginning of a line"
    compile(ct.shape_mutant_source(mutant), mutant["name"], "exec", dont_inherit=True)


def test_diagnosis_codes_are_the_graders():
    from grader.judge.diagnoses import CATALOGUE

    assert {m["diagnosis"] for m in MUTANTS} <= set(CATALOGUE)


def test_the_required_shapes_are_there():
    values = {key: {shape["names"][key] for shape in SHAPES} for key in NAME_KEYS}
    assert REQUIRED_CHILDREN <= values["children"]
    assert sum(shape["names"]["children"] == "_children" for shape in SHAPES) >= 2
    assert {"Value", "Tensor", "value"} <= values["value_class"]
    assert {"backward", "backprop", "function:back_prop"} <= values["backward"]
    assert {"data", "value"} <= values["data"]
    assert {"grad", "gradient"} <= values["grad"]
    assert set(STYLES) <= values["style"]
    sources = {shape["name"]: (ct.CORPUS_DIR / shape["submission"]).read_text(encoding="utf-8") for shape in SHAPES}
    assert any(re.search(r"^@dataclass", s, re.MULTILINE) for s in sources.values())
    assert any("__slots__" in s and "def _backward" in s for s in sources.values())
    assert any(s.startswith("from __future__ import annotations") and "other: Value" in s for s in sources.values())
    assert any("m.zero_grad()" in s for s in sources.values())


def test_the_required_mutants_are_there():
    counts = Counter((m["part"], m["diagnosis"]) for m in MUTANTS)
    for key, at_least in REQUIRED_MUTANTS.items():
        assert counts[key] >= at_least, f"{key}: {counts[key]} mutants, want {at_least}"
    detached = [m for m in MUTANTS if m["diagnosis"] == "not_connected"]
    assert len(detached) >= REQUIRED_NOT_CONNECTED and len({m["part"] for m in detached}) >= 2
    local_grads = {s["name"] for s in SHAPES if s["names"]["style"] == "local_grads"}
    assert {m["part"] for m in MUTANTS if m["shape"] in local_grads} >= {"mul", "backward"}


# ------------------------------------------------------------------------------------- validation

# Declared names that do not fit their shape: the validator must say so, or it would bless any toml.
WRONG_NAMES = {
    "children": ("children_named_children_set", {"children": "_prev"}),
    "local_grads attribute": ("local_grads_renamed", {"local_grads": "_local_grads"}),
    "style": ("microgpt_local_grads", {"style": "closures"}),
    "backward": ("backward_module_function", {"backward": "backward"}),
    "grad": ("grad_named_gradient", {"grad": "grad"}),
}

@pytest.fixture(scope="module")
def validation(tmp_path_factory) -> dict:
    """The validator's result for every shape and every mutant, from one subprocess."""
    folder = tmp_path_factory.mktemp("shapes")
    jobs = [{"key": f"shape:{s['name']}", "path": str(ct.CORPUS_DIR / s["submission"]), "names": s["names"]}
            for s in SHAPES]
    for mutant in MUTANTS:
        try:
            target = ct.build_shape_mutant(mutant, folder / mutant["name"])
        except (StopIteration, AssertionError):
            continue  # a broken entry: test_mutant_is_one_exact_edit says why
        jobs.append({"key": f"mutant:{mutant['name']}", "path": str(target),
                     "names": SHAPES_BY_NAME[mutant["shape"]]["names"]})
    for key, (shape_name, wrong) in WRONG_NAMES.items():
        shape = SHAPES_BY_NAME[shape_name]
        jobs.append({"key": f"wrong:{key}", "path": str(ct.CORPUS_DIR / shape["submission"]),
                     "names": {**shape["names"], **wrong}})
    jobs_file = folder / "jobs.json"
    jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-B", str(VALIDATOR), str(jobs_file)], capture_output=True, text=True,
                          timeout=300, check=False, cwd=str(folder))
    assert proc.returncode == 0 and MARKER in proc.stdout, proc.stderr[-3000:]
    return json.loads(proc.stdout.rsplit(MARKER, 1)[1])



@pytest.mark.parametrize("shape", SHAPES, ids=[s["name"] for s in SHAPES])
def test_shape_is_correct(validation, shape):
    result = validation[f"shape:{shape['name']}"]
    assert result["load"] is None
    assert result["script"] is None, "the file, exploration included, must run as a script"
    assert result["names"] == []
    failing = [(c["part"], c["case"], c["kind"], c["detail"]) for c in result["cases"] if not c["ok"]]
    assert failing == []
    assert {c["part"] for c in result["cases"]} >= set(ct.PART_IDS)


def test_children_containers_vary(validation):
    containers = {validation[f"shape:{s['name']}"]["children_container"] for s in SHAPES}
    assert REQUIRED_CONTAINERS <= containers


@pytest.mark.parametrize("key", WRONG_NAMES)
def test_wrong_names_are_refused(validation, key):
    result = validation[f"wrong:{key}"]
    assert result["names"], "declared names that do not fit the engine passed the names check"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m["name"] for m in MUTANTS])
def test_mutant_is_caught_in_its_part(validation, mutant):
    result = validation.get(f"mutant:{mutant['name']}")
    assert result is not None, "the mutant could not be built (see test_mutant_is_one_exact_edit)"
    assert result["load"] is None
    failing = _failing(result, mutant["part"])
    assert failing, f"nothing fails in {mutant['part']}; failing elsewhere: " + str(
        sorted({c["part"] for c in result["cases"] if not c["ok"]}))
    evidence = EVIDENCE[mutant["diagnosis"]]
    assert evidence(failing), (mutant["diagnosis"], [(c["case"], c["kind"]) for c in failing])
    if mutant["part"] == "train":
        elsewhere = {c["part"] for c in result["cases"] if not c["ok"]} - {"train"}
        assert not elsewhere, f"a bug of the training loop alone breaks {sorted(elsewhere)} too"


def test_future_shape_needs_its_flag_on_every_statement():
    """Compiled one top-level statement at a time, with no future flag (as a loader that forgets it does),
    the future-annotations shape does not load: so it really tests that a loader keeps the flag."""
    shape = next(s for s in SHAPES if s["name"] == "future_annotations")
    # A `-c` script has no `from __future__` of its own for compile() to inherit.
    script = ("import ast, sys\n"
              "tree = ast.parse(open(sys.argv[1], encoding='utf-8').read())\n"
              "namespace = {'__name__': 'submission'}\n"
              "try:\n"
              "    for node in tree.body:\n"
              "        exec(compile(ast.Module([node], []), sys.argv[1], 'exec'), namespace)\n"
              "except NameError as exc:\n"
              "    print('NameError:', exc)\n")
    proc = subprocess.run([sys.executable, "-B", "-c", script, str(ct.CORPUS_DIR / shape["submission"])],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("NameError:") and "'Value'" in proc.stdout, proc.stdout
