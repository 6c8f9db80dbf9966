"""The corpus of known-bug mutants and known-correct variants is itself sound.

Every mutant applies to the reference and compiles, is labelled with a valid part and diagnosis, and
really is wrong: built and run in a subprocess with its own backward() and train(), it computes something
different from the reference on at least one small probe of its part. Every correct variant compiles and
computes the same as the reference on every probe. None of this needs the grader.
"""
from __future__ import annotations

import ast
import json
import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_tools as ct

MUTANTS = ct.load_mutants()
VARIANTS = ct.load_variants()
EXAMPLES_DIR = ct.REPO_DIR / "examples"

# Each probe of corpus_tools.run_probes exercises some parts; a mutant must go wrong on a probe of its own part.
PART_PROBES = {
    "add": ("neuron", "a+a", "a+b", "((a+b)*c)+a", "(a*b)*(a+b)", "a+2.0", "2.0+a", "skip"),
    "mul": ("neuron", "a*a", "a*b", "((a*b)*c)+a", "(a*b)*(a+b)", "a*2", "2*a", "skip"),
    "pow": ("pow3(", "pow_half("),
    "exp": ("exp(",),
    "tanh": ("tanh(", "neuron"),
    "relu": ("relu(",),
    "neg": ("-a",),
    "sub": ("a-b", "(a-b)*a", "1-a", "a-1"),
    "div": ("a/b", "(a/b)*a", "2/a", "a/2"),
    "backward": ("neuron", "a+a", "a*a", "(a*b)*(a+b)", "shared intermediate", "diamond", "skip"),
    "zero_grad": ("zero_grad",),
    "train": ("train(",),
}

# (part, diagnosis) pairs the corpus must hold at least one mutant of: every op code in every graded op (a plain
# number operand only exists for the binary ops), the given ops' typical breakages, and every other code.
GRADED_OPS = ("add", "mul", "pow", "exp", "tanh", "relu")
REQUIRED = (
    {(op, code) for op in GRADED_OPS for code in ct.OP_DIAGNOSES if code != "no_plain_number"}
    | {(op, "no_plain_number") for op in ("add", "mul", "sub", "div")}
    | {("neg", "not_connected"), ("sub", "not_connected"), ("neg", "missing"), ("div", "missing")}
    | {(part, code) for part, codes in ct.NAMED_FROM_NUMBERS.items() for code in codes if part in ("mul", "sub", "div")}
    | {("add", "wrong_node"), ("pow", "wrong_node")}
    | {(part, code) for part in ("backward", "zero_grad", "train") for code in ct.DIAGNOSES[part]}
)


def _hits_part(diffs: list[str], part: str) -> bool:
    """Whether a probe of `part` is among `diffs` (an entry ending in "(" names a family of probes)."""
    return any(name == p or (p.endswith("(") and name.startswith(p)) for name in diffs for p in PART_PROBES[part])


# ----------------------------------------------------------------------------------------- the entries

def test_corpus_sizes():
    assert len(MUTANTS) >= 50
    assert len(VARIANTS) >= 12
    kinds = Counter(Path(v["submission"]).suffix if "submission" in v else "edit" for v in VARIANTS)
    assert kinds[".ipynb"] >= 1 and kinds[".py"] >= 1 and kinds["edit"] >= 1


def test_names_are_unique():
    for entries in (MUTANTS, VARIANTS):
        names = [e["name"] for e in entries]
        assert len(names) == len(set(names)), [n for n, k in Counter(names).items() if k > 1]


def test_part_ids_are_the_lecture_assignments():
    from grader.assignment import load_assignment
    from grader.parts import PART_IDS

    assert set(ct.PART_IDS) <= set(PART_IDS)
    assert set(ct.DIAGNOSES) == set(ct.PART_IDS)
    assert tuple(part.id for part in load_assignment("micrograd").parts) == ct.PART_IDS


@pytest.mark.parametrize("entry", MUTANTS, ids=[m["name"] for m in MUTANTS])
def test_mutant_entry_is_well_formed(entry):
    assert {"name", "file", "find", "replace", "part", "diagnosis", "why"} <= set(entry), entry["name"]
    assert entry["file"] in ct.PACKAGE_FILES
    assert entry["part"] in ct.PART_IDS
    assert entry["diagnosis"] in ct.DIAGNOSES[entry["part"]], f"{entry['diagnosis']} is not a code of {entry['part']}"
    assert entry["why"].strip() and "\n" not in entry["why"]
    assert entry["find"] != entry["replace"]
    # Snippets are whole lines: each ends in a newline (a deletion replaces with nothing).
    assert entry["find"].endswith("\n")
    assert entry["replace"] == "" or entry["replace"].endswith("\n")


def test_mutants_cover_every_bug_class():
    present = {(m["part"], m["diagnosis"]) for m in MUTANTS}
    assert not REQUIRED - present, sorted(REQUIRED - present)


@pytest.mark.parametrize("entry", VARIANTS, ids=[v["name"] for v in VARIANTS])
def test_variant_entry_is_well_formed(entry):
    assert entry["why"].strip() and "\n" not in entry["why"]
    assert ("edit" in entry) != ("submission" in entry), entry["name"]
    if "submission" in entry:
        assert (ct.CORPUS_DIR / entry["submission"]).is_file()
        assert Path(entry["submission"]).suffix in (".py", ".ipynb")
    else:
        assert entry["edit"]
        for edit in entry["edit"]:
            assert {"file", "find", "replace"} <= set(edit) and edit["file"] in ct.PACKAGE_FILES


def test_every_corpus_file_is_listed():
    listed = {ct.CORPUS_DIR / v["submission"] for v in VARIANTS if "submission" in v}
    on_disk = {p for p in (ct.CORPUS_DIR / "correct").iterdir() if p.suffix in (".py", ".ipynb")}
    assert on_disk == listed


# ------------------------------------------------------------------------------------------- building

@pytest.mark.parametrize("entry", MUTANTS, ids=[m["name"] for m in MUTANTS])
def test_mutant_applies_and_compiles(entry, tmp_path):
    dest = ct.build_mutant(entry, tmp_path)
    changed = (dest / "micrograd" / entry["file"]).read_text(encoding="utf-8")
    assert changed != (ct.REFERENCE_PACKAGE / entry["file"]).read_text(encoding="utf-8")
    ct.compile_submission(dest)


@pytest.mark.parametrize("entry", VARIANTS, ids=[v["name"] for v in VARIANTS])
def test_variant_builds_and_compiles(entry, tmp_path):
    built = ct.build_variant(entry, tmp_path)
    ct.compile_submission(built)
    if built.is_file():
        names = {getattr(node, "name", None) for node, _ in ct.definitions(built)}
        assert set(ct.NAMES) <= names, set(ct.NAMES) - names


LECTURE_NOTEBOOKS = ("lecture_notebook.ipynb", "dave.ipynb")


def test_notebooks_are_valid_nbformat_v4():
    nbformat = pytest.importorskip("nbformat")
    notebooks = sorted((ct.CORPUS_DIR / "correct").glob("*.ipynb")) + sorted(EXAMPLES_DIR.glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        assert notebook.nbformat == 4
        nbformat.validate(notebook)
        # Every notebook holds exploration (top-level code) the grader has to skip.
        assert len(ct.definitions(path)) < sum(len(ast.parse(c).body) for c in _parsable_cells(path))
        if path.name in LECTURE_NOTEBOOKS:
            sources = "".join(c.source for c in notebook.cells if c.cell_type == "code")
            assert "draw_dot(" in sources and "plt." in sources and "%matplotlib inline" in sources
            assert "!pip install" in sources and "for k in range(" in sources


def _parsable_cells(path):
    cells = []
    for source in ct.notebook_source(path):
        try:
            ast.parse(source)
        except SyntaxError:
            continue
        cells.append(source)
    return cells


def test_definitions_skip_exploration():
    kept = ct.definitions(ct.CORPUS_DIR / "correct" / "lecture_notebook.ipynb")
    kinds = Counter(type(node).__name__ for node, _ in kept)
    assert set(kinds) <= {"Import", "ImportFrom", "ClassDef", "FunctionDef", "Assign"}
    names = [node.name for node, _ in kept if hasattr(node, "name")]
    assert {"Value", "draw_dot", "MLP", "train"} <= set(names)


# ----------------------------------------------------------------------------------------- behaviour

BATCH = 12


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """Probe results of the reference, every mutant, every variant and every example, computed in parallel."""
    root = tmp_path_factory.mktemp("corpus")
    jobs = {("reference", "reference"): ct.REPO_DIR / "reference"}
    for m in MUTANTS:
        jobs[("mutant", m["name"])] = ct.build_mutant(m, root / "mutants" / m["name"])
    for v in VARIANTS:
        jobs[("variant", v["name"])] = ct.build_variant(v, root / "variants" / v["name"])
    for path in sorted(EXAMPLES_DIR.iterdir()):
        if path.is_dir() or path.suffix in (".py", ".ipynb"):
            jobs[("example", path.name)] = path
    keys = list(jobs)
    # A few submissions per interpreter: starting Python costs more than probing one submission.
    batches = [keys[i:i + BATCH] for i in range(0, len(keys), BATCH)]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        answers = pool.map(lambda batch: ct.probe_many_in_subprocess([jobs[k] for k in batch]), batches)
        return {key: result for batch, results in zip(batches, answers) for key, result in zip(batch, results)}


def test_reference_passes_every_probe(probed):
    reference = probed[("reference", "reference")]
    errors = {name: r for name, r in reference.items() if isinstance(r, str)}
    assert not errors
    # The probes see the lecture's numbers.
    assert reference["neuron"][1:] == pytest.approx([-1.5, 0.5, 1.0, 0.0, 0.5], abs=1e-6)
    assert reference["a+a"] == [3.0, 2.0]


@pytest.mark.parametrize("entry", VARIANTS, ids=[v["name"] for v in VARIANTS])
def test_variant_agrees_with_reference(entry, probed):
    results = probed[("variant", entry["name"])]
    reference = probed[("reference", "reference")]
    diffs = ct.differences(results, reference)
    assert not diffs, json.dumps({d: [results.get(d), reference[d]] for d in diffs[:5]}, indent=1)


@pytest.mark.parametrize("entry", MUTANTS, ids=[m["name"] for m in MUTANTS])
def test_mutant_differs_from_reference(entry, probed):
    diffs = ct.differences(probed[("mutant", entry["name"])], probed[("reference", "reference")])
    assert diffs, "the mutant computes the same as the reference on every probe"
    assert _hits_part(diffs, entry["part"]), f"no probe of part {entry['part']} differs: {diffs}"


# ------------------------------------------------------------------------------------------- examples

# Sample submission -> (probes that must go wrong, probes that must agree with the reference).
EXAMPLE_EXPECTATIONS = {
    "alice": ("correct", None),
    "dave.ipynb": ("correct", None),
    "bob": (("a*a", "((a*b)*c)+a", "train(steps=3, lr=0.03)"), ("a+a", "neuron", "exp(0.8)", "tanh(0.8)", "zero_grad")),
    "carol.py": (("neuron", "tanh(0.8)", "tanh(-0.6)*b+a"),
                 ("a+a", "a*a", "exp(0.8)", "relu(1.3)", "pow3(1.2)", "1-a", "2/a", "zero_grad")),
    "frank": (("exp(0.8)", "exp(-0.6)*b+a", "relu(1.3*c)*b+a"),
              ("neuron", "a+a", "a*a", "tanh(0.8)", "relu(1.3)", "zero_grad", "train(steps=3, lr=0.03)")),
}


def test_every_example_is_known(probed):
    assert {name for kind, name in probed if kind == "example"} == set(EXAMPLE_EXPECTATIONS) | {"erin"}
    assert (EXAMPLES_DIR / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(EXAMPLE_EXPECTATIONS))
def test_example_behaves_as_described(name, probed):
    results = probed[("example", name)]
    reference = probed[("reference", "reference")]
    wrong, right = EXAMPLE_EXPECTATIONS[name]
    diffs = ct.differences(results, reference)
    if wrong == "correct":
        assert not diffs, diffs
        return
    assert set(wrong) <= set(diffs), set(wrong) - set(diffs)
    assert not set(right) & set(diffs), set(right) & set(diffs)


def test_erin_is_the_untouched_template(probed):
    results = probed[("example", "erin")]
    for probe in ("a+a", "a*a", "pow3(1.2)", "exp(0.8)", "tanh(0.8)", "relu(1.3)", "zero_grad", "train(default)"):
        assert str(results[probe]).startswith("error: NotImplementedError: Task "), (probe, results[probe])
    engine = (EXAMPLES_DIR / "erin" / "micrograd" / "engine.py").read_text(encoding="utf-8")
    for task in ("add", "mul", "pow", "exp", "tanh", "relu"):
        assert f'raise NotImplementedError("Task {task}: ' in engine
