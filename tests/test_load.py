"""Loading a hand-in: what gets staged, how lines map back, and which inputs are refused with what message."""
from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest

from grader.load import Limits, Submission, SubmissionError, load_submission
from grader.load.notebook import IgnoredCode

ENGINE = "class Value:\n    def __init__(self, data):\n        self.data = data\n"
NN = "from micrograd.engine import Value\n\n\nclass Module:\n    pass\n\n\nclass MLP(Module):\n    pass\n"
TRAIN = "def train(model, xs, ys, steps=20):\n    return []\n"
PACKAGE = {"engine.py": ENGINE, "nn.py": NN, "train.py": TRAIN}

SINGLE_FILE = '''\
"""Carol's micrograd, as built in the lecture."""
import math

EPS = 1e-6
class Value:
    def __init__(self, data):
        self.data = data

    def __add__(self, other):
        return Value(self.data + other.data)

Value.__radd__ = Value.__add__
a = Value(2.0); b = 3.0
L = a + a
print(L.data)
for i in range(3):
    print(i)

def train(model):
    return []

if __name__ == "__main__":
    train(None)
xs = [[2.0, 3.0]]
ys = [x[0] for x in xs]
relu = lambda x: max(0.0, x)
'''
KEPT_LINES = {2, 4, *range(5, 11), 12, 19, 20, 24, 25, 26}


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def write_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return path


def notebook(*cells: tuple[str, str]) -> str:
    """A notebook of (cell type, source) pairs; the source is stored as a list of lines, as Jupyter does."""
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True),
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})} for kind, source in cells],
    })


def snapshot(root: Path, skip: Path) -> set[Path]:
    return {p for p in root.rglob("*") if not p.is_relative_to(skip)}


@pytest.fixture
def load(tmp_path: Path):
    """load_submission into a fresh workdir, checking that nothing is written outside that workdir."""
    count = 0

    def run(path: Path, **limits: int) -> Submission:
        nonlocal count
        count += 1
        workdir = tmp_path / f"work{count}"
        before = snapshot(tmp_path, workdir)
        try:
            return load_submission(path, workdir, Limits(**limits))
        finally:
            assert snapshot(tmp_path, workdir) == before, "the loader wrote outside its workdir"

    return run


def staged_files(submission: Submission) -> dict[str, bytes]:
    return {p.relative_to(submission.staged).as_posix(): p.read_bytes()
            for p in sorted(submission.staged.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------------
# Packages: folders and zips


def test_package_folder_is_copied_with_an_init(tmp_path, load):
    root = write_tree(tmp_path / "alice", {f"micrograd/{name}": text for name, text in PACKAGE.items()})
    submission = load(root)
    assert submission.staged_as == "package"
    assert staged_files(submission) == {
        "micrograd/__init__.py": b"", **{f"micrograd/{name}": text.encode() for name, text in PACKAGE.items()}}
    assert submission.notes == []
    assert submission.locate("micrograd/nn.py", 4) == ("micrograd/nn.py", 4)
    assert submission.locate(str(submission.staged / "micrograd" / "engine.py"), 2) == ("micrograd/engine.py", 2)
    assert submission.locate("micrograd/__init__.py", 1) == ("micrograd/__init__.py", 1)
    assert submission.locate("somewhere/else.py", 7) == ("somewhere/else.py", 7)


def test_folder_that_is_the_package_shows_its_own_name(tmp_path, load):
    root = write_tree(tmp_path / "alice", {"__init__.py": "from .engine import Value\n", **PACKAGE})
    submission = load(root)
    assert submission.staged_as == "package"
    assert (submission.staged / "micrograd" / "__init__.py").read_text() == "from .engine import Value\n"
    assert submission.locate("micrograd/engine.py", 3) == ("alice/engine.py", 3)


def test_nested_package_with_a_missing_module_gives_a_note(tmp_path, load):
    files = {"README.md": "hi", "alice/micrograd/engine.py": ENGINE, "alice/micrograd/nn.py": NN,
             "alice/micrograd/training.py": TRAIN, "alice/micrograd/__pycache__/engine.cpython-311.pyc": b"x"}
    submission = load(write_tree(tmp_path / "hand-in", files))
    assert sorted(staged_files(submission)) == [
        "micrograd/__init__.py", "micrograd/engine.py", "micrograd/nn.py", "micrograd/training.py"]
    assert submission.locate("micrograd/nn.py", 5) == ("alice/micrograd/nn.py", 5)
    assert submission.notes == [("no alice/micrograd/train.py found (rename training.py to train.py?): "
                                 "the parts that need train will be reported as missing")]


def test_zip_of_a_named_folder(tmp_path, load):
    archive = write_zip(tmp_path / "alice.zip", {
        **{f"student-name/micrograd/{name}": text for name, text in PACKAGE.items()},
        "student-name/notes.txt": "not graded",
        "__MACOSX/student-name/micrograd/._engine.py": b"\x00\x05junk",
        "student-name/.DS_Store": b"\x00",
    })
    submission = load(archive)
    assert submission.staged_as == "package"
    assert staged_files(submission)["micrograd/engine.py"] == ENGINE.encode()
    assert submission.locate("micrograd/train.py", 1) == ("student-name/micrograd/train.py", 1)


def test_zip_of_the_package_files_themselves(tmp_path, load):
    submission = load(write_zip(tmp_path / "bob.zip", PACKAGE))
    assert submission.staged_as == "package"
    assert submission.locate("micrograd/engine.py", 2) == ("engine.py", 2)


def test_zip_holding_one_notebook(tmp_path, load):
    archive = write_zip(tmp_path / "dave.zip", {"dave/lecture.ipynb": notebook(("code", ENGINE))})
    submission = load(archive)
    assert submission.staged_as == "module"
    assert submission.locate("submission.py", 3) == ("dave/lecture.ipynb cell 1", 2)


def test_symlinked_file_in_a_folder_is_not_followed(tmp_path, load):
    root = write_tree(tmp_path / "alice", {f"micrograd/{name}": text for name, text in PACKAGE.items()})
    (tmp_path / "secret.py").write_text("TOKEN = 'x'\n")
    (root / "micrograd" / "secret.py").symlink_to(tmp_path / "secret.py")
    submission = load(root)
    assert "micrograd/secret.py" not in staged_files(submission)
    assert submission.notes == ["skipped micrograd/secret.py: it is a symbolic link"]


# ------------------------------------------------------------------------------------------------
# A single .py file


def test_single_file_keeps_definitions_at_their_original_lines(tmp_path, load):
    submission = load(write_tree(tmp_path, {"carol.py": SINGLE_FILE}) / "carol.py")
    assert submission.staged_as == "module"
    staged = (submission.staged / "submission.py").read_text().split("\n")
    original = SINGLE_FILE.split("\n")
    for number, line in enumerate(original, 1):
        if number in KEPT_LINES:
            assert staged[number - 1] == line, f"line {number} should be kept as is"
        elif number == 13:
            assert staged[number - 1] == "b = 3.0", "only the call-free half of `a = Value(2.0); b = 3.0` is kept"
        else:
            assert staged[number - 1].strip() == "", f"line {number} ({line!r}) should be blank"
    code = compile((submission.staged / "submission.py").read_text(), "submission.py", "exec")
    first_lines = {c.co_name: c.co_firstlineno for c in code.co_consts if hasattr(c, "co_firstlineno")}
    assert first_lines["Value"] == 5 and first_lines["train"] == 19
    assert submission.locate("submission.py", 19) == ("carol.py", 19)
    assert submission.locate(str(submission.staged / "submission.py"), 9) == ("carol.py", 9)
    assert submission.notes == [
        "skipped 7 lines of exploratory code (lines 13-17, 22-23)",
        "no Module, Neuron, Layer and MLP defined: the parts that need them will be reported as missing",
    ]


def test_single_file_inside_a_folder(tmp_path, load):
    root = write_tree(tmp_path / "carol", {"src/micrograd.py": SINGLE_FILE, "setup.py": "", "test_it.py": ""})
    submission = load(root)
    assert submission.staged_as == "module"
    assert submission.locate("submission.py", 5) == ("src/micrograd.py", 5)


def test_staging_is_deterministic(tmp_path, load):
    root = write_tree(tmp_path / "alice", {f"micrograd/{name}": text for name, text in PACKAGE.items()})
    assert staged_files(load(root)) == staged_files(load(root))
    nb = write_tree(tmp_path, {"dave.ipynb": LECTURE_NOTEBOOK}) / "dave.ipynb"
    assert staged_files(load(nb)) == staged_files(load(nb))


# ------------------------------------------------------------------------------------------------
# A notebook

LECTURE_NOTEBOOK = notebook(
    ("markdown", "# micrograd from scratch"),  # cell 1
    ("code", "%matplotlib inline\nimport math\n!pip install graphviz\n"),  # cell 2
    ("code", "class Value:\n    def __init__(self, data):\n        self.data = data\n"),  # cell 3
    ("code", "a = Value(2.0)\nb = a\nprint(a)\n"),  # cell 4
    ("markdown", "Now with addition."),  # cell 5
    ("code", "%%bash\nls -la\n"),  # cell 6
    ("code", "class Value:\n    def __init__(self, data):\n        %time self.data = data\n"),  # cell 7: left bodiless
    ("code", ("# grown version\nclass Value:\n    def __init__(self, data):\n        self.data = data\n\n"
              "    def __add__(self, other):\n        return Value(self.data + other.data)\n\n"
              "Value.__radd__ = Value.__add__\ndraw_dot(Value(1.0))\n")),  # cell 8
    ("code", "class MLP:\n    def __init__(self, nin, nouts)\n        pass\n"),  # cell 9: syntax error
    ("code", "files = !ls\nget_ipython().system('ls')\ndef train(model):\n    return []\n"),  # cell 10
)


def test_notebook_keeps_definitions_in_cell_order(tmp_path, load):
    submission = load(write_tree(tmp_path, {"dave.ipynb": LECTURE_NOTEBOOK}) / "dave.ipynb")
    assert submission.staged_as == "module"
    text = (submission.staged / "submission.py").read_text()
    assert "%" not in text and "!" not in text and "get_ipython" not in text and "draw_dot" not in text
    assert "print" not in text and "a = Value" not in text
    namespace: dict = {}
    exec(compile(text, "submission.py", "exec"), namespace)  # noqa: S102 - our own test notebook
    assert hasattr(namespace["Value"], "__add__") and namespace["Value"].__radd__ is namespace["Value"].__add__
    assert callable(namespace["train"]) and "MLP" not in namespace
    lines = text.split("\n")
    add = lines.index("    def __add__(self, other):") + 1
    assert submission.locate("submission.py", add) == ("dave.ipynb cell 8", 6)
    assert submission.locate(str(submission.staged / "submission.py"), lines.index("def train(model):") + 1) == (
        "dave.ipynb cell 10", 3)
    assert submission.locate("submission.py", lines.index("import math") + 1) == ("dave.ipynb cell 2", 2)
    assert submission.notes == [
        ("skipped cell 7, line 3: expected an indented block after function definition on line 2; "
         "its Value is not graded"),
        "skipped cell 9, line 2: expected ':'; its MLP is not graded",
        "skipped 4 lines of exploratory code in cells 4, 8",
        "dropped 5 IPython magic or shell lines in cells 2, 7, 10",
        "dropped 1 %% cell: cell 6",
        "defined more than once, the last definition is graded: Value in cells 3, 8",
        "no Module, Neuron, Layer and MLP defined: the parts that need them will be reported as missing",
    ]
    # What the grader left out as the kernel did is marked so, for the live notebook's view to leave out.
    assert [isinstance(note, IgnoredCode) for note in submission.notes] == [True] * 6 + [False]


def test_a_notebook_place_is_the_execution_count_the_student_sees_with_the_saved_cell_beside_it(tmp_path, load):
    cells = json.loads(notebook(
        ("markdown", "# micrograd"),  # cell 1
        ("code", "class Value:\n    def __init__(self, data):\n        self.data = data\n"),  # cell 2, In [7]
        ("code", "v = Value(1.0)\nprint(v)\n"),  # cell 3, In [2]
        ("code", "class Value:\n    def __init__(self, data):\n        self.data = data + 0\n"),  # cell 4, In [4]
        ("code", "def train(:\n    pass\n"),  # cell 5, In [3]: a syntax error
        ("code", "%time x = 1\n"),  # cell 6: never run
    ))
    for cell, count in zip(cells["cells"][1:], (7, 2, 4, 3, None)):
        cell["execution_count"] = count
    submission = load(write_tree(tmp_path, {"nb.ipynb": json.dumps(cells)}) / "nb.ipynb")
    text = (submission.staged / "submission.py").read_text().split("\n")
    first, second = (i + 1 for i, line in enumerate(text) if line == "class Value:")
    assert submission.locate("submission.py", first + 2) == ("nb.ipynb In [7] (cell 2)", 3)
    assert submission.locate("submission.py", second) == ("nb.ipynb In [4]", 1)  # its count is its place
    assert submission.notes[:4] == [
        "skipped In [3] (cell 5), line 1: invalid syntax; its train is not graded",
        "skipped 2 lines of exploratory code in In [2] (cell 3)",
        "dropped 1 IPython magic or shell line in cell 6",
        "defined more than once, the last definition is graded: Value in In [7] (cell 2), In [4]",
    ]
    cells["cells"] = cells["cells"][:1] + cells["cells"][4:5]  # only the broken cell: it is the whole report
    (tmp_path / "broken.ipynb").write_text(json.dumps(cells), encoding="utf-8")
    with pytest.raises(SubmissionError, match=r"^broken.ipynb In \[3\] \(cell 2\):1: SyntaxError: invalid syntax$"):
        load(tmp_path / "broken.ipynb")


def test_a_long_history_names_its_first_cells_only(tmp_path, load):
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": number, "source": source}
             for number, source in enumerate(["def train():\n    return 1\n"] + ["print(1)\n"] * 30, start=1)]
    submission = load(write_tree(tmp_path, {"live.ipynb": json.dumps({"nbformat": 4, "metadata": {},
                                                                         "cells": cells})}) / "live.ipynb")
    assert submission.notes[0] == ("skipped 30 lines of exploratory code in In [2], In [3], In [4], In [5], In [6], "
                                   "In [7], In [8], In [9], …")


def test_notebook_source_may_be_one_string_and_await_is_dropped(tmp_path, load):
    nb = {"nbformat": 4, "metadata": {}, "cells": [
        {"cell_type": "code", "source": "import asyncio\nawait asyncio.sleep(0)\ndef train():\n    return 1\n"}]}
    submission = load(write_tree(tmp_path, {"nb.ipynb": json.dumps(nb)}) / "nb.ipynb")
    assert "await" not in (submission.staged / "submission.py").read_text()
    assert submission.locate("submission.py", 3) == ("nb.ipynb cell 1", 3)


# ------------------------------------------------------------------------------------------------
# Refused archives


def test_zip_slip_is_refused(tmp_path, load):
    for bad in ("../evil.py", "micrograd/../../evil.py", "/tmp/evil.py", "C:\\evil.py"):
        archive = write_zip(tmp_path / "slip.zip", {"micrograd/engine.py": ENGINE, bad: "print('owned')"})
        with pytest.raises(SubmissionError, match="unsafe path"):
            load(archive)
    assert not list(tmp_path.parent.rglob("evil.py"))


def test_zip_bomb_is_stopped_while_reading(tmp_path, load):
    zeros = b"#" + b"0" * 3_000_000
    archive = write_zip(tmp_path / "bomb.zip", {"micrograd/engine.py": zeros})
    assert archive.stat().st_size < 50_000
    with pytest.raises(SubmissionError, match=r"micrograd/engine.py in bomb.zip is over the 2 MB limit"):
        load(archive)
    spread = write_zip(tmp_path / "spread.zip", {f"micrograd/m{i}.py": b"#" + b"0" * 400_000 for i in range(5)})
    with pytest.raises(SubmissionError, match=r"spread.zip unpacks to more than 1 MB"):
        load(spread, max_archive_bytes=1_000_000)


def test_zip_with_too_many_files_is_refused(tmp_path, load):
    archive = write_zip(tmp_path / "many.zip", {f"micrograd/m{i}.py": "" for i in range(30)})
    with pytest.raises(SubmissionError, match="holds more than 10 .py and .ipynb files"):
        load(archive, max_archive_files=10)


def test_zip_symlink_entry_is_not_created(tmp_path, load):
    archive = write_zip(tmp_path / "link.zip", PACKAGE)
    with zipfile.ZipFile(archive, "a") as zf:
        link = zipfile.ZipInfo("evil.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    submission = load(archive)
    assert not any(p.is_symlink() for p in submission.staged.parent.rglob("*"))
    assert "skipped evil.py in link.zip: it is a symbolic link" in submission.notes


def test_broken_zip_is_refused(tmp_path, load):
    with pytest.raises(SubmissionError, match="not a readable zip archive"):
        load(write_tree(tmp_path, {"broken.zip": b"PK\x03\x04 not really"}) / "broken.zip")


# ------------------------------------------------------------------------------------------------
# Refused folders and files


@pytest.mark.parametrize(("files", "message"), [
    ({}, "alice is empty"),
    ({"report.pdf": b"%PDF"}, r"alice holds no micrograd/ package, .py file or .ipynb notebook \(found report.pdf\)"),
    ({"micrograd/Engine.py": ENGINE, "micrograd/neural_net.py": NN},
     (r"found micrograd/Engine.py and micrograd/neural_net.py; expected micrograd/engine.py, nn.py and train.py "
      r"\(rename Engine.py to engine.py\)")),
    ({"Engine.py": ENGINE, "nn.py": NN, "train.py": TRAIN},
     (r"found Engine.py, nn.py and train.py; expected micrograd/engine.py, nn.py and train.py "
      r"\(rename Engine.py to engine.py\)")),
    ({"a.py": "", "b.ipynb": "{}"}, r"alice holds 2 .py and .ipynb files \(a.py and b.ipynb\)"),
    ({"x/micrograd/engine.py": ENGINE, "y/micrograd/engine.py": ENGINE},
     r"alice holds 2 micrograd packages \(x/micrograd and y/micrograd\); hand in one"),
])
def test_unusable_folder_says_why(tmp_path, load, files, message):
    root = write_tree(tmp_path / "alice", files)
    root.mkdir(exist_ok=True)
    with pytest.raises(SubmissionError, match=f"^{message}"):
        load(root)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("carol.py", b"import math\nx = '\xe9t\xe9'\n", r"^carol.py line 2 is not UTF-8 text; save the file as UTF-8$"),
    ("carol.py", b"class Value:\n    pass\n\ndef train(:\n    pass\n", r"^carol.py:4: SyntaxError: invalid syntax$"),
    ("carol.py", b"", r"^carol.py defines none of Value, Module, Neuron, Layer, MLP, train$"),
    ("carol.py", b"print('only exploring')\n", r"^carol.py defines none of"),
    ("dave.ipynb", b'{"cells": [', r"^dave.ipynb is not a valid notebook: its JSON breaks at line 1"),
    ("dave.ipynb", b"[1, 2]", r"^dave.ipynb is not a Jupyter notebook"),
    ("dave.ipynb", notebook(("markdown", "# notes only")).encode(), r"^dave.ipynb defines none of"),
    ("dave.ipynb", notebook(("code", "class Value:\n  x = (\n")).encode(),
     r"^dave.ipynb cell 1:2: SyntaxError: '\(' was never closed$"),
    ("carol.txt", b"class Value: pass\n", r"^carol.txt is not something the grader reads"),
])
def test_unreadable_file_says_why(tmp_path, load, name, content, message):
    with pytest.raises(SubmissionError, match=message):
        load(write_tree(tmp_path, {name: content}) / name)


def test_non_utf8_package_file_is_named(tmp_path, load):
    root = write_tree(tmp_path / "alice", {"micrograd/engine.py": ENGINE, "micrograd/nn.py": b"# caf\xe9\n"})
    with pytest.raises(SubmissionError, match=r"^micrograd/nn.py line 1 is not UTF-8 text"):
        load(root)


def test_syntax_error_in_a_package_is_left_to_the_child(tmp_path, load):
    root = write_tree(tmp_path / "alice", {"micrograd/engine.py": "class Value(:\n", "micrograd/nn.py": NN})
    submission = load(root)
    assert (submission.staged / "micrograd" / "engine.py").read_text() == "class Value(:\n"


def test_oversized_file_is_named(tmp_path, load):
    path = write_tree(tmp_path, {"carol.py": ENGINE + "#" * 5_000}) / "carol.py"
    with pytest.raises(SubmissionError, match=r"^carol.py is 5.\d+ kB, over the 1 kB limit$"):
        load(path, max_file_bytes=1_000)
    root = write_tree(tmp_path / "alice", {"micrograd/engine.py": ENGINE + "#" * 5_000})
    with pytest.raises(SubmissionError, match=r"^micrograd/engine.py is .* over the 1 kB limit$"):
        load(root, max_file_bytes=1_000)


def test_missing_path_is_refused(tmp_path, load):
    with pytest.raises(SubmissionError, match="does not exist"):
        load(tmp_path / "nowhere.zip")
