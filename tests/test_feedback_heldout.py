"""How good the feedback is on a held-out corpus (tests/corpus/heldout.toml), written apart from the mutant
corpus and in other shapes: single .py files and notebooks, engines without closures, other attribute names,
`__slots__`, a dataclass, other training loops. Each bug's diagnosis and line were decided from the bug, before
the grader ran on it.

Named right: the bug's part has the diagnosis the entry says. Exact line: the headline of that part points at
the entry's line, in a .py file its own line, in a notebook the cell the student sees as `In [n]` (its
execution count) and the line within that cell. Run with `-s` to see the figures and every miss.

The figures are asserted on the bugs of the bases the grader discovers, as on the mutant corpus: at least
95% named right and 90% on the exact line. A base marked `known_false_fail` is an engine shape discovery
does not find yet; its bugs are counted and printed beside the others, and the test fails once it earns
full marks, so the mark cannot outlive the gap.
"""
from __future__ import annotations

import json
import re
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.judge.diagnoses import CATALOGUE
from grader.pipeline import judge, probe_submission

NAMED_RIGHT = 0.95
EXACT_LINE = 0.90

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
HELDOUT_FILE = CORPUS_DIR / "heldout.toml"
PARTS = ("add", "mul", "pow", "exp", "tanh", "relu", "neg", "sub", "div", "backward", "zero_grad", "train")
REQUIRED_NAMES = ("Value", "Module", "Neuron", "Layer", "MLP", "train")


def _load() -> dict:
    with HELDOUT_FILE.open("rb") as handle:
        return tomllib.load(handle)


CORPUS = _load()
BASES = {base["name"]: base for base in CORPUS["base"]}
BUGS = CORPUS["bug"]


# ------------------------------------------------------------------------------------------ building

def base_path(base: dict) -> Path:
    return CORPUS_DIR / base["submission"]


def is_notebook(base: dict) -> bool:
    return base["submission"].endswith(".ipynb")


def cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def bug_cell(bug: dict, notebook: dict) -> int:
    """The index (in notebook["cells"]) of the one code cell whose source holds the bug's `find`, once."""
    hits = [(i, cell_text(c).count(bug["find"])) for i, c in enumerate(notebook["cells"])
            if c.get("cell_type") == "code" and bug["find"] in cell_text(c)]
    assert len(hits) == 1 and hits[0][1] == 1, f"{bug['name']}: find occurs in cells {hits}, must be once in one cell"
    return hits[0][0]


def build_bug(bug: dict, dest: Path) -> Path:
    """The base with the bug's one edit, written under dest with the base's file name."""
    base = BASES[bug["base"]]
    source = base_path(base)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / source.name
    if is_notebook(base):
        notebook = json.loads(source.read_text(encoding="utf-8"))
        index = bug_cell(bug, notebook)
        edited = cell_text(notebook["cells"][index]).replace(bug["find"], bug["replace"], 1)
        notebook["cells"][index]["source"] = edited.splitlines(keepends=True)
        target.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
    else:
        text = source.read_text(encoding="utf-8")
        assert text.count(bug["find"]) == 1, f"{bug['name']}: find occurs {text.count(bug['find'])} times"
        target.write_text(text.replace(bug["find"], bug["replace"], 1), encoding="utf-8")
    return target


def expected_where(bug: dict) -> str:
    base = BASES[bug["base"]]
    name = Path(base["submission"]).name
    return f"{name} In [{bug['cell']}]:{bug['line']}" if is_notebook(base) else f"{name}:{bug['line']}"


def points_at(head, bug: dict) -> bool:
    """Whether the headline's file:line is the bug's: for a notebook, the cell named by its execution count
    (`In [n]`, or `cell n` where the report counts cells the way the student sees them) and the line in it."""
    if head is None or head.line != bug["line"] or not head.file:
        return False
    base = BASES[bug["base"]]
    name = Path(base["submission"]).name
    if not is_notebook(base):
        return Path(head.file).name == name
    if not head.file.startswith(name):
        return False
    named = re.match(r"\s*(?:In \[(\d+)\]|cell (\d+))", head.file[len(name):])
    return named is not None and int(named.group(1) or named.group(2)) == bug["cell"]


# ------------------------------------------------------------------------------------------ grading

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every base and every bug, graded in one judge session."""
    root = tmp_path_factory.mktemp("heldout")
    jobs = [(f"base:{name}", base_path(base)) for name, base in BASES.items()]
    jobs += [(f"bug:{bug['name']}", build_bug(bug, root / bug["name"])) for bug in BUGS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        probed = list(pool.map(lambda job: probe_submission(job[1], name=job[0]), jobs))
    return {result.submission: result for result in judge(probed, load_assignment())}


def headline(result, part: str):
    """The check whose finding heads the part, chosen as the report chooses it."""
    return result.headline(part)


def shape(bug: dict) -> str:
    base = BASES[bug["base"]]
    return f"{Path(base['submission']).name}{' (known false fail)' if 'known_false_fail' in base else ''}"


def measure(graded) -> tuple[list[str], list[str], list[str]]:
    """The bugs whose part is named wrong, those whose headline points elsewhere, and one line per miss."""
    misnamed, misplaced, misses = [], [], []
    for bug in BUGS:
        result = graded[f"bug:{bug['name']}"]
        part = next((p for p in result.parts if p.id == bug["part"]), None)
        diagnosis = part.diagnosis if part else f"({result.status}: {result.error})"
        head = headline(result, bug["part"]) if part else None
        named, placed = diagnosis == bug["diagnosis"], points_at(head, bug)
        if not named:
            misnamed.append(bug["name"])
        if not placed:
            misplaced.append(bug["name"])
        if not (named and placed):
            got = f"{diagnosis}@{head.file if head else None}:{head.line if head else None}"
            marks = ("" if named else "NAME") + ("" if named or placed else "+") + ("" if placed else "LINE")
            misses.append(f"{bug['name']} [{shape(bug)}] {marks}: expected {bug['diagnosis']}@{expected_where(bug)}, "
                          f"got {got}")
    return misnamed, misplaced, misses


def figure(label: str, wrong: list[str], total: int) -> float:
    share = (total - len(wrong)) / total
    print(f"{label}: {total - len(wrong)}/{total} ({share:.0%})")
    return share


def test_heldout_feedback_names_the_bug_and_points_at_its_line(graded):
    misnamed, misplaced, misses = measure(graded)
    print()
    figure("named right, every base", misnamed, len(BUGS))
    figure("exact line, every base", misplaced, len(BUGS))
    found = {bug["name"] for bug in BUGS if "known_false_fail" not in BASES[bug["base"]]}
    named = figure("named right, bases the grader discovers", [b for b in misnamed if b in found], len(found))
    exact = figure("exact line, bases the grader discovers", [b for b in misplaced if b in found], len(found))
    print(f"misses ({len(misses)}):")
    for miss in misses:
        print("  " + miss)
    assert named >= NAMED_RIGHT and exact >= EXACT_LINE, "\n".join(misses)


def test_every_base_earns_full_marks(graded):
    """Every correct base gets full marks; the known false fails are listed with their headlines, not hidden."""
    wrong = []
    for name, base in BASES.items():
        result = graded[f"base:{name}"]
        full = result.status == "graded" and result.score == result.max_score
        failing = [p for p in result.parts if p.score < p.max_score or p.diagnosis]
        heads = [f"{p.id}: {p.diagnosis} at {h.file}:{h.line}: {h.message[:160]}" if (h := headline(result, p.id))
                 else f"{p.id}: {p.diagnosis}" for p in failing]
        if "known_false_fail" in base:
            print(f"\nknown false fail {base['submission']} ({result.score}/{result.max_score}): "
                  f"{base['known_false_fail']}")
            for line in heads[:4] + ([f"... {len(heads) - 4} more parts"] if len(heads) > 4 else []):
                print("  " + line)
            if full:
                wrong.append(f"{base['submission']} now earns full marks: drop its known_false_fail")
        elif not full:
            wrong.append(f"{base['submission']}: {result.score}/{result.max_score} {result.error or ''}; "
                         + "; ".join(heads))
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------------------ the corpus is sound

def test_the_corpus_has_the_shapes_and_bugs_it_promises():
    notebooks = [b for b in BASES.values() if is_notebook(b)]
    singles = [b for b in BASES.values() if b["submission"].endswith(".py")]
    assert len(BASES) >= 6 and len(notebooks) >= 2 and len(singles) >= 3
    assert len(BUGS) >= 50
    assert {bug["part"] for bug in BUGS} == set(PARTS)
    assert len({bug["name"] for bug in BUGS}) == len(BUGS)
    assert len({bug["diagnosis"] for bug in BUGS}) >= 15
    for bug in BUGS:
        assert bug["base"] in BASES, bug["name"]
        assert bug["part"] in PARTS, bug["name"]
        assert bug["diagnosis"] in CATALOGUE, bug["name"]
        assert bug["find"] != bug["replace"], bug["name"]
        assert isinstance(bug["line"], int) and bug["line"] >= 1, bug["name"]
        assert ("cell" in bug) == is_notebook(BASES[bug["base"]]), bug["name"]


def test_every_base_defines_the_whole_api():
    for base in BASES.values():
        path = base_path(base)
        if is_notebook(base):
            notebook = json.loads(path.read_text(encoding="utf-8"))
            assert notebook["nbformat"] == 4
            code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
            text = "\n".join(cell_text(c) for c in code)
            counts = [c["execution_count"] for c in code if c["execution_count"] is not None]
            assert counts and counts != sorted(counts), f"{path.name}: cells should have run out of order"
            assert len(counts) == len(set(counts)), path.name
        else:
            text = path.read_text(encoding="utf-8")
        for name in REQUIRED_NAMES:
            assert re.search(rf"^\s*(class|def) {name}\b", text, re.MULTILINE), f"{path.name} lacks {name}"


@pytest.mark.parametrize("bug", BUGS, ids=[bug["name"] for bug in BUGS])
def test_each_bug_is_one_edit_and_its_line_exists(bug, tmp_path):
    """The find occurs once (in a notebook, in one cell), the built code compiles, and the expected line is in
    the built file, in a notebook in the cell whose execution count is `cell` (whose place in the notebook is
    another number, so counting cells can not pass for the execution count)."""
    base = BASES[bug["base"]]
    built = build_bug(bug, tmp_path)
    if is_notebook(base):
        notebook = json.loads(built.read_text(encoding="utf-8"))
        index = next(i for i, c in enumerate(notebook["cells"]) if c.get("execution_count") == bug["cell"])
        original = json.loads(base_path(base).read_text(encoding="utf-8"))
        assert bug_cell(bug, original) == index, f"{bug['name']}: the find is not in In [{bug['cell']}]"
        assert index + 1 != bug["cell"], bug["name"]
        lines = cell_text(notebook["cells"][index]).split("\n")
        compile(cell_text(notebook["cells"][index]), bug["name"], "exec")
    else:
        lines = built.read_text(encoding="utf-8").split("\n")
        compile(built.read_text(encoding="utf-8"), bug["name"], "exec")
    assert bug["line"] <= len(lines) + 1, bug["name"]
