"""How good the feedback is, measured over the mutant corpus: the headline names the bug the entry says
(named right), and the headline's `file:line` is the statement to blame (exact line), computed from each
mutant's edit (`corpus_tools.expected_line`). The figures are printed; run with `-s` to see them."""
from __future__ import annotations

import corpus_tools
import pytest

from grader.assignment import load_assignment
from grader.pipeline import judge, probe_submission

NAMED_RIGHT = 0.95
EXACT_LINE = 0.90


@pytest.fixture(scope="module")
def graded(corpus_probes):
    jobs = [(f"mutant:{m['name']}", "mutant", m["name"]) for m in corpus_tools.load_mutants()]
    return {result.submission: result for result in judge(corpus_probes.probe(jobs), load_assignment())}


def headline(result, part: str):
    """The check whose finding heads the part, chosen as the report chooses it."""
    return result.headline(part)


def measure(graded) -> tuple[list[str], list[str]]:
    """The mutants whose headline names the wrong bug, and those whose headline points elsewhere."""
    misnamed, misplaced = [], []
    for mutant in corpus_tools.load_mutants():
        result = graded[f"mutant:{mutant['name']}"]
        part = next(p for p in result.parts if p.id == mutant["part"])
        head = headline(result, mutant["part"])
        if part.diagnosis != mutant["diagnosis"]:
            misnamed.append(f"{mutant['name']}: {part.diagnosis}, expected {mutant['diagnosis']}")
        line = corpus_tools.expected_line(mutant)
        if head is None or head.line != line or not (head.file or "").endswith(f"micrograd/{mutant['file']}"):
            misplaced.append(f"{mutant['name']}: {head and head.file}:{head and head.line}, expected "
                             f"micrograd/{mutant['file']}:{line}")
    return misnamed, misplaced


def figure(label: str, wrong: list[str], total: int) -> float:
    share = (total - len(wrong)) / total
    print(f"{label}: {total - len(wrong)}/{total} ({share:.0%})")
    return share


def test_feedback_names_the_bug_and_points_at_its_line(graded):
    total = len(corpus_tools.load_mutants())
    misnamed, misplaced = measure(graded)
    named = figure("named right", misnamed, total)
    exact = figure("exact line", misplaced, total)
    assert named >= NAMED_RIGHT, misnamed
    assert exact >= EXACT_LINE, misplaced


ISSUE_PATTERNS = {  # the bugs once reported under a generic name or at their function's first line
    "tanh_misplaced_parenthesis": "wrong_forward", "neg_times_one": "wrong_forward",
    "rtruediv_like_truediv": "swapped_operands", "rsub_wrong_order": "swapped_operands",
    "mul_out_data_for_out_grad": "swapped_factor", "mul_swapped_factors": "swapped_factor",
    "pow_gradient_into_out": "wrong_node", "add_other_into_out": "wrong_node",
    "zero_grad_also_resets_data": "resets_data", "zero_grad_resets_data": "resets_data",
    "zero_grad_sets_none": "not_a_number", "train_returns_none": "train_wrong_return",
    "train_returns_values": "train_wrong_return", "train_zero_grad_after_backward": "zero_grad_after_backward",
    "train_gradient_ascent": "wrong_sign_update",
}


@pytest.mark.parametrize("name", sorted(ISSUE_PATTERNS))
def test_each_pattern_gets_its_specific_diagnosis_at_its_statement(graded, name):
    mutant = next(m for m in corpus_tools.load_mutants() if m["name"] == name)
    assert mutant["diagnosis"] == ISSUE_PATTERNS[name]
    result = graded[f"mutant:{name}"]
    head = headline(result, mutant["part"])
    assert head.diagnosis == ISSUE_PATTERNS[name], head.message
    assert head.line == corpus_tools.expected_line(mutant), head.message
    assert "TypeError: 'NoneType'" not in head.message
    assert "0000000" not in head.message  # no float noise


def test_expected_line_follows_the_edit():
    """The first code line that differs, skipping comments; a deletion points where the text was."""
    changed = {"name": "x", "file": "train.py", "find": "            p.data -= lr * p.grad\n",
               "replace": "            p.data += lr * p.grad\n"}
    text = (corpus_tools.REFERENCE_PACKAGE / "train.py").read_text(encoding="utf-8").splitlines()
    assert text[corpus_tools.expected_line(changed) - 1].strip() == "p.data -= lr * p.grad"
    deleted = {**changed, "find": "        model.zero_grad()\n", "replace": ""}
    assert text[corpus_tools.expected_line(deleted) - 1].strip() == "model.zero_grad()"
    commented = {**changed, "find": "        model.zero_grad()\n        loss.backward()\n",
                 "replace": "        # no reset\n        loss.backward()\n"}
    assert text[corpus_tools.expected_line(commented) - 1].strip() == "loss.backward()"
    assert corpus_tools.expected_line({**changed, "line": 3}) == 3


def _bugged_copy(source: str, find: str, replace: str) -> str:
    assert source.count(find) == 1, find
    return source.replace(find, replace)


def test_a_single_file_and_a_notebook_get_the_statement_in_their_own_lines(tmp_path):
    """The line is the student's: in a .py file its own line, in a notebook the cell and the line in it."""
    import json

    folder = corpus_tools.CORPUS_DIR / "correct"
    single = tmp_path / "lecture_follower.py"
    single.write_text(_bugged_copy((folder / "lecture_follower.py").read_text(encoding="utf-8"),
                                   "other.grad += self.data * out.grad", "other.grad += other.data * out.grad"))
    notebook = json.loads((folder / "lecture_notebook.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in notebook["cells"]]
    cell = next(i for i, text in enumerate(cells) if "p.data += -lr * p.grad" in text)
    notebook["cells"][cell]["source"] = _bugged_copy(cells[cell], "p.data += -lr * p.grad", "p.data += lr * p.grad")
    bugged_notebook = tmp_path / "lecture_notebook.ipynb"
    bugged_notebook.write_text(json.dumps(notebook), encoding="utf-8")

    results = judge([probe_submission(single), probe_submission(bugged_notebook)], load_assignment())
    by_name = {r.submission: r for r in results}
    head = headline(by_name["lecture_follower.py"], "mul")
    line = next(i for i, text in enumerate(single.read_text().splitlines(), 1) if "other.grad += other.data" in text)
    assert (head.diagnosis, head.file, head.line) == ("swapped_factor", "lecture_follower.py", line)
    head = headline(by_name["lecture_notebook.ipynb"], "train")
    line = next(i for i, text in enumerate(notebook["cells"][cell]["source"].splitlines(), 1) if "p.data +=" in text)
    count = notebook["cells"][cell]["execution_count"]  # Jupyter shows the cell as `In [count]`
    assert count != cell + 1
    assert (head.diagnosis, head.file, head.line) == (
        "wrong_sign_update", f"lecture_notebook.ipynb In [{count}] (cell {cell + 1})", line)
