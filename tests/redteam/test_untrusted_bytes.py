"""Hand-ins whose bytes are built to make the grader's own process grow: a notebook with one code cell of
megabytes, and a package that carries dozens of large modules it never imports. Each is graded as its honest
code is, and the grader parses no more of it than the bounds say. (Numbers beyond a float's range and lone
surrogates on the results pipe are in the red-team batch: manifest.toml's record_numbers_beyond_floats and
record_lone_surrogates.)"""
from __future__ import annotations

import json

import nbformat
from redteam.build import REPO_DIR, build_base

from grader.judge.statements import MAX_PARSED_BYTES
from grader.load.submission import DEFAULT_LIMITS
from grader.pipeline import grade_one, probe_submission

ENGINE = (REPO_DIR / "reference" / "micrograd" / "engine.py").read_text(encoding="utf-8")


def test_a_notebook_cell_of_megabytes_is_skipped_with_a_note_and_the_rest_graded(tmp_path):
    huge = "x = [\n" + "    1.0,\n" * 700_000 + "]\n"  # about 6 MB of code in one cell
    assert len(huge) > DEFAULT_LIMITS.max_cell_chars
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(ENGINE), nbformat.v4.new_code_cell(huge)])
    path = tmp_path / "hand-in.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    honest = tmp_path / "honest.ipynb"
    honest.write_text(json.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(ENGINE)])), encoding="utf-8")
    attacked, control = grade_one(path, parts=["add", "tanh"]), grade_one(honest, parts=["add", "tanh"])
    assert attacked.score == control.score > 0
    assert any(note.startswith("skipped cell 2:") and "characters of code" in note for note in attacked.notes)


def test_modules_a_package_never_imports_are_never_parsed(tmp_path):
    hand_in = build_base("reference", tmp_path / "hand-in")
    for number in range(40):
        body = "".join(f"def f{number}_{i}(a, b):\n    return (a + b) * (a - b)\n\n" for i in range(3_800))
        (hand_in / "micrograd" / f"unused_{number}.py").write_text(body, encoding="utf-8")
    probed = probe_submission(hand_in, parts=["add", "tanh", "backward"])
    sources = probed.evidence.sources
    assert len(sources.texts) > 40  # read before any child ran, as text
    imported = sources.imported
    assert imported and not any(name.startswith("micrograd/unused_") for name in imported)
    probed.evidence.sources.find_class("Value")
    assert sources.parsed_bytes <= MAX_PARSED_BYTES
    assert not [key for key, tree in sources.trees.items() if tree is not None and key not in imported]
    assert grade_one(hand_in, parts=["add", "tanh", "backward"]).score == grade_one(
        build_base("reference", tmp_path / "control"), parts=["add", "tanh", "backward"]).score
