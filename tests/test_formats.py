"""The machine-facing report formats: GitHub workflow commands and step summary, Mermaid graphs, JUnit
XML and Gradescope's results.json, on real gradings and on hand-made results with hostile text."""
from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.findings import Finding
from grader.gradescope import SCHEMA
from grader.paths import REFERENCE_DIR
from grader.pipeline import grade_one
from grader.report import available, github, gradescope, html, junit, mermaid, render, svg
from grader.score import CheckResult, GradeResult, PartResult

OVERWRITE_BUG = ("self.grad += other.data * out.grad", "self.grad = other.data * out.grad")
GRAPH = {"leaves": [1.5, -2.25], "nodes": [["mul", {"leaf": 0}, {"leaf": 1}], ["add", {"node": 0}, {"const": 2.0}]],
         "first_wrong": ["node", 0], "data": [-3.375, -1.375], "leaf_grads": [-2.25, 1.5], "node_grads": [1.0, 1.0]}


def buggy_copy(root: Path) -> Path:
    """The reference solution with `+=` turned into `=` in mul's backward pass."""
    shutil.copytree(REFERENCE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    engine = root / "micrograd" / "engine.py"
    text = engine.read_text(encoding="utf-8")
    assert text.count(OVERWRITE_BUG[0]) == 1
    engine.write_text(text.replace(*OVERWRITE_BUG), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def buggy(tmp_path_factory: pytest.TempPathFactory) -> GradeResult:
    return grade_one(buggy_copy(tmp_path_factory.mktemp("buggy") / "submission"), load_assignment("micrograd"))


@pytest.fixture(scope="module")
def correct() -> GradeResult:
    return grade_one(REFERENCE_DIR, load_assignment("micrograd"))


def hostile_result(parts: int = 1) -> GradeResult:
    """Failures whose text tries to end the annotation, start new commands, break XML and inject HTML."""
    evil = "100% wrong,\r\n::warning::injected\n\x1b[31mred\x1b[0m \x00\x07 <script>x</script> | pipe"
    tests, results = [], []
    for i in range(parts):
        part = f"p{i}"
        finding = Finding("overwrite", evil, case="a, b", expected=1.0, got=2.0, numerical=1.0000001,
                          where=("micro,grad/eng:ine.py", 3), graph=GRAPH, part=part, check="test_x")
        tests.append(CheckResult(f"{part}: check", part, "test_x", "failed", 0.0, 1.0, finding))
        results.append(PartResult(part, f"Part {i}", 0.0, 1.0, "failed", 0, 1, "overwrite", evil))
    return GradeResult(submission="sub\x1b]0;title\x07", score=0.0, max_score=float(parts), tests=tests, parts=results)


def unreadable_result() -> GradeResult:
    return GradeResult(submission="empty", score=0.0, max_score=100.0, tests=[], status="error",
                       error="the folder is empty\n::error::x",
                       parts=[PartResult("add", "Addition", 0.0, 100.0, "not graded", 0, 0, message="empty")])


def test_all_machine_formats_are_offered() -> None:
    assert {"github", "junit", "gradescope"} <= set(available())


# ------------------------------------------------------------------------------------------------- github

def test_github_annotates_the_failing_line_once_per_part(buggy: GradeResult) -> None:
    lines = github.render(buggy, env={}).splitlines()
    assert 1 <= len(lines) <= github.MAX_ANNOTATIONS
    assert all(line.startswith("::error ") for line in lines)
    mul = [line for line in lines if "title=mul%3A" in line]
    assert len(mul) == 1
    assert mul[0].startswith("::error file=micrograd/engine.py,line=")
    assert "Hint: " in mul[0]


def test_github_escapes_text_so_it_cannot_start_a_command() -> None:
    lines = github.render(hostile_result(), env={}).splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("::error file=micro%2Cgrad/eng%3Aine.py,line=3,title=p0%3A ")
    assert "100%25 wrong" in line and "%0A" in line
    assert "\r" not in line and "\x1b" not in line and "\x00" not in line
    # The only `::` that can end the properties is the one we put there.
    properties, message = line[len("::error "):].split("::", 1)
    assert "::" not in properties
    assert message.startswith("you overwrite `.grad` instead of accumulating. 100%25 wrong,%0A::warning::injected")


def test_github_caps_annotations_at_ten() -> None:
    assert len(github.annotations(hostile_result(parts=14))) == 10


def test_github_unreadable_submission_is_one_annotation() -> None:
    lines = github.render(unreadable_result(), env={}).splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error title=micrograde%3A could not grade::")
    assert "%0A::error::x" in lines[0]


def test_github_writes_summary_and_outputs(buggy: GradeResult, tmp_path: Path) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("earlier step\n", encoding="utf-8")
    github.render(buggy, env={"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)})
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## micrograde: ")  # appended, not overwritten
    assert "| part | points | checks passed | status |" in text
    assert "### ❌ mul: " in text and "`micrograd/engine.py:" in text and "**Hint:**" in text
    outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())
    assert float(outputs["score"]) == pytest.approx(buggy.score, abs=1e-6)
    assert float(outputs["max_score"]) == buggy.max_score
    assert outputs["passed"] == "false"


def test_github_summary_draws_failing_graphs_in_mermaid() -> None:
    text = github.step_summary(hostile_result())
    assert "```mermaid\nflowchart LR\n" in text
    assert "class N0 wrong" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\x1b" not in text and "\x00" not in text
    assert "\\| pipe" in text  # a pipe in a message does not split the table


def test_github_without_runner_files_writes_nothing(buggy: GradeResult, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.chdir(tmp_path)
    github.render(buggy)
    assert list(tmp_path.iterdir()) == []


def test_correct_solution_has_no_annotations(correct: GradeResult) -> None:
    assert github.render(correct, env={}) == ""
    assert "❌" not in github.step_summary(correct)


# ------------------------------------------------------------------------------------------------ mermaid

def test_mermaid_flowchart_wires_inputs_to_ops_and_marks_the_first_wrong_node() -> None:
    chart = mermaid.flowchart(GRAPH)
    lines = chart.splitlines()
    assert lines[0] == "flowchart LR"
    assert '    L0["a = 1.5<br/>grad -2.25"]' in lines
    assert '    N0(["mul<br/>data -3.375<br/>grad 1"])' in lines
    assert {"    L0 --> N0", "    L1 --> N0", "    N0 --> N1", "    K0 --> N1"} <= set(lines)
    assert '    K0["2"]' in lines or '    K0["2.0"]' in lines
    assert lines[-2].startswith("    classDef wrong fill:#f")
    assert lines[-1] == "    class N0 wrong"


def test_mermaid_marks_a_leaf_and_survives_odd_labels() -> None:
    graph = {**GRAPH, "nodes": [['a"]; click L0 call x(', {"leaf": 0}]], "first_wrong": ["leaf", 1]}
    chart = mermaid.flowchart(graph)
    assert chart.splitlines()[-1] == "    class L1 wrong"
    assert '"]; click' not in chart and "#quot;" in chart
    assert mermaid.fenced(GRAPH).startswith("```mermaid\n") and mermaid.fenced(GRAPH).endswith("\n```")


def test_mermaid_names_many_leaves() -> None:
    assert [mermaid.leaf_name(i) for i in (0, 2, 25, 26)] == ["a", "c", "z", "x26"]


# -------------------------------------------------------------------------------------------------- junit

def test_junit_has_a_suite_per_part_and_a_case_per_check(buggy: GradeResult) -> None:
    root = ET.fromstring(junit.render(buggy).encode("utf-8"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [p.id for p in buggy.parts]
    assert int(root.get("tests")) == len(buggy.tests)
    failed = [t for t in buggy.tests if t.status == "failed"]
    assert int(root.get("failures")) == len(failed)
    mul = next(s for s in suites if s.get("name") == "mul")
    assert int(mul.get("failures")) >= 1 and int(mul.get("tests")) == len(mul.findall("testcase"))
    case = next(c for c in mul.findall("testcase") if c.find("failure") is not None)
    assert case.get("classname") == "mul" and case.get("name").startswith("test_")
    failure = case.find("failure")
    test = next(t for t in failed if t.part == "mul" and t.check == case.get("name"))
    assert failure.get("message") == test.message
    assert "hint: " in failure.text and "at micrograd/engine.py:" in failure.text


def test_junit_stays_valid_xml_with_control_characters() -> None:
    root = ET.fromstring(junit.render(hostile_result(parts=2)).encode("utf-8"))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and "\x1b" not in failure.get("message") and "<script>" in failure.get("message")
    assert root.get("failures") == "2"


def test_junit_unreadable_submission_is_an_error() -> None:
    root = ET.fromstring(junit.render(unreadable_result()).encode("utf-8"))
    assert root.get("errors") == "1"
    assert root.find("testsuite/testcase/error").get("message").startswith("the folder is empty")


# --------------------------------------------------------------------------------------------- gradescope

def validate(results: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    try:
        import jsonschema
    except ImportError:
        assert set(results) <= set(schema["properties"]) and set(schema["required"]) <= set(results)
        for test in results["tests"]:
            assert set(test) == set(schema["properties"]["tests"]["items"]["required"])
            assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"]
        return
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(results, schema)


def test_gradescope_results_follow_the_schema(buggy: GradeResult) -> None:
    results = json.loads(gradescope.render(buggy))
    validate(results)
    assert results["score"] == pytest.approx(buggy.score) and results["score"] < buggy.max_score
    assert results["output_format"] == results["test_output_format"] == "md"
    assert [t["number"] for t in results["tests"]][:2] == ["1.1", "1.2"]
    mul = [t for t in results["tests"] if t["tags"] == ["mul"] and t["status"] == "failed"]
    assert mul and mul[0]["score"] == 0 and "**Hint:**" in mul[0]["output"]
    assert "`micrograd/engine.py:" in mul[0]["output"]
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(results["score"], abs=1e-4)


def test_gradescope_full_marks(correct: GradeResult) -> None:
    results = json.loads(gradescope.render(correct))
    validate(results)
    assert results["score"] == correct.max_score
    assert all(t["status"] == "passed" for t in results["tests"])


def test_gradescope_unreadable_submission_scores_zero_with_the_reason() -> None:
    results = json.loads(gradescope.render(unreadable_result()))
    validate(results)
    assert results["score"] == 0 and results["tests"] == []
    assert "the folder is empty" in results["output"]


def test_gradescope_hostile_text_stays_valid() -> None:
    results = json.loads(gradescope.render(hostile_result(parts=3)))
    validate(results)
    assert "\x1b" not in json.dumps(results) and "<script>" not in results["tests"][0]["output"]


# --- the graph picture in HTML and Markdown ------------------------------------------------------------------


def test_svg_draws_every_value_with_the_expected_one_and_marks_the_first_wrong_node() -> None:
    graph = {**GRAPH, "node_grads": [0.5, 1.0],
             "expected": {"data": [-3.375, -1.375], "leaf_grads": [-2.25, 1.5], "node_grads": [1.0, 1.0]}}
    picture = svg.picture(graph)
    ET.fromstring(picture)  # well-formed XML
    assert picture.count("<rect") == 5  # leaves a and b, the constant 2, two ops
    assert "a = 1.5" in picture and "node 1: mul" in picture and "constant 2" in picture
    assert "grad 0.5, expected 1" in picture and "data -3.375 ✓" in picture
    wrong = picture.split('<g class="first-wrong">')[1].split("</g>")[0]
    assert "node 1: mul" in wrong and "first wrong" in wrong
    assert picture.count("first wrong") == 1 and picture.count("<line") == 4


def test_svg_of_hostile_or_huge_graphs_is_safe_or_absent() -> None:
    hostile = {**GRAPH, "data": ["<script>alert(1)</script>", 1.0]}
    picture = svg.picture(hostile)
    assert "<script" not in picture and "&lt;script&gt;" in picture
    assert svg.picture({"leaves": [1.0], "nodes": [["add", {"leaf": 0}, {"leaf": 0}]] * 50}) == ""
    assert svg.picture({"leaves": "x", "nodes": [["add", {"leaf": 7}]]}) == ""


def test_html_and_markdown_carry_the_graph_picture(buggy: GradeResult) -> None:
    page = html.render(buggy)
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1 and "first wrong" in page
    assert "<b>mul</b>" in page and "Hint:" in page
    markdown_report = render(buggy, "markdown")
    assert markdown_report.count("<svg") == 1 and "first wrong" in markdown_report


def test_html_escapes_everything_from_the_submission() -> None:
    page = html.render(hostile_result(3))
    assert "<script>" not in page and "\x1b" not in page and "\x00" not in page
    assert page.count("<svg") == 3


def test_markdown_shows_no_float_noise() -> None:
    result = hostile_result()
    test = result.tests[0]
    test.finding = replace(test.finding, expected=-0.6000000000000001, got=[0.1 + 0.2, 1.0])
    report = render(result, "markdown")
    assert "0.6000000000000001" not in report and "0.30000000000000004" not in report
    assert "expected: -0.6\n" in report and "got: \\[0.3, 1.0\\]" in report


def test_github_summary_and_html_show_no_float_noise() -> None:
    result = hostile_result()
    test = result.tests[0]
    test.finding = replace(test.finding, expected=-0.6000000000000001, got=[0.1 + 0.2, 1.0])
    for shown in (github.step_summary(result), html.render(result)):
        assert "0.6000000000000001" not in shown and "0.30000000000000004" not in shown
        assert "-0.6" in shown and "[0.3, 1]" in shown
