"""docs/adopt.md: every `micrograde` command it shows is one the grader accepts, every step it marks
"(tested)" is run by a test (here, or in the file named beside it), and the policy files it writes are
the ones the grader reads."""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
import zipfile

import pytest

from grader.batch.policy import load_policy, policy_folder
from grader.cli import build_parser, main
from grader.paths import REFERENCE_DIR, REPO_DIR

ADOPT = REPO_DIR / "docs" / "adopt.md"
PLACEHOLDERS = {"CLASSROOM": "cs-autodiff", "ORG": "course-org", "CANVAS_ID": "98765", "STUDENT": "alice"}
# Each "(tested)" step and the test that runs it.
TESTED_ELSEWHERE = {
    "make setup": "every test run", "make student": "tests/test_authoring.py, tests/test_workflow.py",
    'git init -b main && git add -A && git commit -m "micrograd assignment"': "tests/test_workflow.py",
    "cd .. && micrograde grade micrograd-submissions --out grades": "tests/test_policy.py (git clones)",
    "micrograde classroom50 build --out . --classroom CLASSROOM --slug micrograd": "tests/test_classroom50.py",
    "micrograde grade micrograd-download --out grades": "tests/test_classroom50.py",
    "micrograde gradescope build --out micrograde-autograder.zip": "tests/test_gradescope.py",
    "micrograde grade submissions.zip --out grades": "here",
    "micrograde check path/to/submission --format prairielearn --output results.json": "tests/test_platforms.py",
    "micrograde grade submissions --out grades": "here and tests/test_policy.py",
    "micrograde publish --index site/simple": "tests/test_release.py",
    """printf '[canvas]\\nassignment_id = "CANVAS_ID"\\n' >> course-policy.toml""": "here",
}


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", ADOPT.read_text(encoding="utf-8"), re.DOTALL)


def commands() -> list[str]:
    """The command lines of the guide's shell blocks, continuation lines joined, comments dropped."""
    joined = "\n".join(block.replace("\\\n", " ") for block in shell_blocks())
    return [re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines() if line.strip()]


def fill(text: str) -> str:
    for name, value in PLACEHOLDERS.items():
        text = re.sub(rf"\b{name}\b", value, text)
    return text


def test_every_micrograde_command_in_the_guide_is_accepted():
    parser = build_parser()
    shown = [line for line in commands() if line.startswith("micrograde ")]
    assert len(shown) >= 8
    for line in shown:
        for part in line.split("&&"):
            words = fill(part).split()[1:]
            parser.parse_args(words)  # argparse exits (status 2) on a command that does not exist


def test_every_step_marked_tested_is_tested():
    text = ADOPT.read_text(encoding="utf-8")
    marked = {re.sub(r"\s+#.*$", "", line).strip() for line in text.splitlines() if line.rstrip().endswith("(tested)")
              and not line.startswith(("#", "-", "Steps", "`"))}
    marked.discard("")
    assert marked <= set(TESTED_ELSEWHERE), sorted(marked - set(TESTED_ELSEWHERE))


def test_the_policy_files_the_guide_writes_are_read_as_it_says(tmp_path):
    (tmp_path / "submissions").mkdir()
    block = next(b for b in shell_blocks() if "course-policy.toml <<'TOML'" in b)
    script = "\n".join(line for line in block.splitlines() if not line.startswith("micrograde "))
    canvas = next(line for line in commands() if "[canvas]" in line)
    subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, check=True, timeout=60)
    folder = policy_folder(tmp_path / "submissions")
    subprocess.run(["bash", "-e", "-c", fill(canvas)], cwd=folder, check=True, timeout=60)
    policy = load_policy(folder)
    assert policy.due.isoformat() == "2026-12-01T23:59:00+00:00" and policy.percent_per_day == 10
    assert policy.max_days == 7 and policy.grace.total_seconds() == 15 * 60
    assert policy.extensions["js42"].reason == "illness" and policy.overrides["222"].score == 95
    assert policy.canvas_assignment_id == "98765"


def test_grading_an_exported_zip_as_the_guide_says(tmp_path, capsys, monkeypatch):
    export = tmp_path / "export"
    shutil.copytree(REFERENCE_DIR / "micrograd", export / "submission_7" / "micrograd",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (export / "submission_metadata.yml").write_text(
        "submission_7:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: 'al1'\n    :email: ada@x.edu\n"
        "  :created_at: 2026-12-01 10:00:00.000000000 +00:00\n", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "submissions.zip", "w") as archive:
        for file in sorted(export.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(export).as_posix())
    monkeypatch.chdir(tmp_path)
    line = next(c for c in commands() if c == "micrograde grade submissions.zip --out grades")
    assert main(line.split()[1:] + ["-j", "1"]) == 0
    capsys.readouterr()
    with (tmp_path / "grades" / "gradebook.csv").open(newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["student"], row["name"], row["email"], row["score"]) == ("al1", "Ada Lovelace", "ada@x.edu", "100")
    assert row["submitted_at"] == "2026-12-01T10:00:00Z"
    with (tmp_path / "grades" / "canvas_gradebook.csv").open(newline="", encoding="utf-8") as f:
        assert next(csv.reader(f))[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@pytest.mark.parametrize("route", ["GitHub organisation", "Classroom 50", "Gradescope", "Canvas", "PrairieLearn"])
def test_the_guide_has_a_section_per_route(route):
    assert re.search(rf"^## \d\. .*{route}", ADOPT.read_text(encoding="utf-8"), re.MULTILINE)
