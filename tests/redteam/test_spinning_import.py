"""The attack: a submission that spins as it is imported, to cost every grading of it (and every class it
is in) one full time limit per sandboxed child. The defence: once a child never finishes loading the code,
no other child is started for it; its probes are unanswered, and it earns nothing."""
from __future__ import annotations

import shutil

from grader import pipeline
from grader.paths import REFERENCE_DIR
from grader.sandbox.process import JobLimits


def test_code_that_never_finishes_loading_is_given_one_child_and_earns_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "spinner"
    shutil.copytree(REFERENCE_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    engine = folder / "micrograd" / "engine.py"
    engine.write_text("while True:\n    pass\n" + engine.read_text(encoding="utf-8"), encoding="utf-8")
    children = []
    real = pipeline.run_child

    def counting(staged, kind, probes, **options):
        children.append(probes[0]["stage"])
        return real(staged, kind, probes, **options)

    monkeypatch.setattr(pipeline, "run_child", counting)
    result = pipeline.grade_one(folder, limits=JobLimits(probe_seconds=0.5, total_seconds=1.0, cpu_seconds=2))
    assert children == ["engine"]
    assert result.score == 0 and not [t for t in result.tests if t.status == "passed"]
    assert {p.id for p in result.parts if p.max_score} >= {"train", "zero_grad", "tanh"}
