"""The statement locator (grader/judge/statements.py) on small sources written in many styles: from the
first line of a function, which is all the sandboxed child reports, to the statement to blame."""
from __future__ import annotations

import ast
import os
import sys
import textwrap
from pathlib import Path

import corpus_tools
import pytest

from grader.judge import statements as st
from grader.judge.evidence import Evidence
from grader.pipeline import probe_submission


def tree_of(source: str) -> ast.Module:
    return ast.parse(textwrap.dedent(source))


def line_of(source: str, text: str, nth: int = 0) -> int:
    """The 1-based line of the `nth` line of `source` that contains `text`."""
    lines = [i for i, line in enumerate(textwrap.dedent(source).splitlines(), 1) if text in line]
    return lines[nth]


# ---------------------------------------------------------------------------------------------- closures

LECTURE = """
class Value:
    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), '*')

        def _backward():
            # the chain rule
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        x = self.data
        t = (2.718281828 ** (2 * x) - 1) / (2.718281828 ** (2 * x) + 1)
        out = Value(t, (self,), 'tanh')

        def _backward():
            self.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out
"""


@pytest.mark.parametrize(("index", "text"), [(0, "self.grad +="), (1, "other.grad +=")])
def test_the_write_of_the_input_whose_gradient_is_wrong(index, text):
    closure = line_of(LECTURE, "def _backward")
    assert st.gradient_line(tree_of(LECTURE), closure, index) == line_of(LECTURE, text)


def test_input_names_come_from_the_enclosing_method():
    source = """
    class V:
        def __add__(a, b):
            out = V(a.data + b.data, (a, b))
            def _backward():
                b.grad += out.grad
                a.grad += out.grad
            out._backward = _backward
            return out
    """
    closure = line_of(source, "def _backward")
    assert st.gradient_line(tree_of(source), closure, 0) == line_of(source, "a.grad +=")
    assert st.gradient_line(tree_of(source), closure, 1) == line_of(source, "b.grad +=")


def test_plain_assignment_and_tuple_targets_count_as_writes():
    source = """
    class V:
        def __mul__(self, other):
            out = V(self.data * other.data, (self, other))
            def _backward():
                self.grad = self.grad + other.data * out.grad
                other.grad = other.grad + self.data * out.grad
            out._backward = _backward
            return out

        def __add__(self, other):
            out = V(self.data + other.data, (self, other))
            def _backward():
                g = out.grad
                self.grad, other.grad = self.grad + g, other.grad + g
            out._backward = _backward
            return out
    """
    tree = tree_of(source)
    mul, add = line_of(source, "def _backward", 0), line_of(source, "def _backward", 1)
    assert st.gradient_line(tree, mul, 1) == line_of(source, "other.grad = other.grad")
    assert st.gradient_line(tree, add, 1) == line_of(source, "self.grad, other.grad")


def test_a_lambda_closure_is_its_own_line():
    source = """
    class V:
        def __add__(self, other):
            out = V(self.data + other.data, (self, other))
            out._backward = lambda: (setattr(self, "grad", self.grad + out.grad),
                                     setattr(other, "grad", other.grad + out.grad))
            return out
    """
    line = line_of(source, "lambda")
    assert st.gradient_line(tree_of(source), line, 1) == line


def test_a_closure_handing_the_input_to_a_helper():
    source = """
    def accumulate(node, amount):
        node.grad += amount

    class V:
        def __mul__(self, other):
            out = V(self.data * other.data, (self, other))
            def _backward():
                accumulate(self, other.data * out.grad)
                accumulate(other, self.data * out.grad)
            out._backward = _backward
            return out
    """
    closure = line_of(source, "def _backward")
    assert st.gradient_line(tree_of(source), closure, 1) == line_of(source, "accumulate(other")


def test_a_loop_over_children_as_in_microgpt():
    source = """
    class V:
        def __mul__(self, other):
            out = V(self.data * other.data, (self, other))
            local_grads = (other.data, self.data)
            def _backward():
                for child, local_grad in zip((self, other), local_grads):
                    child.grad += local_grad * out.grad
            out._backward = _backward
            return out
    """
    closure = line_of(source, "def _backward")
    assert st.gradient_line(tree_of(source), closure, 1) == line_of(source, "child.grad +=")


def test_a_decorated_function_starts_at_its_decorator():
    source = """
    def traced(fn):
        return fn

    class V:
        def exp(self):
            out = V(2.718281828 ** self.data, (self,))
            @traced
            def _backward():
                self.grad += out.data * out.grad
            out._backward = _backward
            return out
    """
    assert st.gradient_line(tree_of(source), line_of(source, "@traced"), 0) == line_of(source, "self.grad +=")


def test_the_wrong_node_is_out_or_a_second_write_into_one_input():
    source = """
    class V:
        def relu(self):
            out = V(max(0.0, self.data), (self,))
            def _backward():
                out.grad += (out.data > 0) * self.grad
            out._backward = _backward
            return out

        def __mul__(self, other):
            out = V(self.data * other.data, (self, other))
            def _backward():
                self.grad += other.data * out.grad
                self.grad += self.data * out.grad
            out._backward = _backward
            return out
    """
    tree = tree_of(source)
    assert st.wrong_node_line(tree, line_of(source, "def _backward", 0)) == line_of(source, "out.grad +=")
    assert st.wrong_node_line(tree, line_of(source, "def _backward", 1)) == line_of(source, "self.grad +=", 1)


def test_no_function_at_the_line_gives_nothing():
    assert st.gradient_line(tree_of(LECTURE), 1, 0) is None
    assert st.forward_line(tree_of(LECTURE), 1) is None


# ---------------------------------------------------------------------------------------------- forward values

def test_the_forward_value_follows_a_name_to_its_computation():
    tree = tree_of(LECTURE)
    assert st.forward_line(tree, line_of(LECTURE, "def __mul__")) == line_of(LECTURE, "out = Value(self.data *")
    assert st.forward_line(tree, line_of(LECTURE, "def tanh")) == line_of(LECTURE, "t = (2.7")
    assert st.build_line(tree, line_of(LECTURE, "def tanh")) == line_of(LECTURE, "out = Value(t")


def test_the_forward_value_of_composite_and_direct_returns():
    source = """
    class V:
        def __neg__(self):  # -self
            return self * -1

        def __sub__(self, other):
            other = other if isinstance(other, V) else V(other)
            return V(self.data - other.data, (self, other), '-')

        def __rtruediv__(self, other):
            result = self ** -1
            return result * other

        def relu(self):
            out = type(self)(0.0 if self.data < 0 else self.data, (self,))
            return out
    """
    tree = tree_of(source)
    assert st.forward_line(tree, line_of(source, "def __neg__")) == line_of(source, "return self * -1")
    assert st.forward_line(tree, line_of(source, "def __sub__")) == line_of(source, "return V(")
    assert st.forward_line(tree, line_of(source, "def __rtruediv__")) == line_of(source, "return result * other")
    assert st.forward_line(tree, line_of(source, "def relu")) == line_of(source, "out = type(self)")


def test_where_a_missing_return_or_closure_belongs():
    source = """
    class V:
        def __add__(self, other):
            out = V(self.data + other.data, (self, other))
            def _backward():
                self.grad += out.grad
                other.grad += out.grad
                # end of the closure
            return out

        def __neg__(self):
            self * -1

        def exp(self):
            out = V(2.718281828 ** self.data, (self,))
            out._backward = lambda: None

        def relu(self):
            return V(max(0.0, self.data), (self,))
    """
    tree = tree_of(source)
    assert st.unattached_closure_line(tree, line_of(source, "def __add__")) == line_of(source, "return out")
    assert st.unattached_closure_line(tree, line_of(source, "def relu")) == line_of(source, "def relu")
    assert st.missing_return_line(tree, line_of(source, "def __neg__")) == line_of(source, "self * -1")
    assert st.missing_return_line(tree, line_of(source, "def exp")) == line_of(source, "out._backward = lambda") + 1
    assert st.attach_line(tree, line_of(source, "def exp")) == line_of(source, "out._backward = lambda")


@pytest.mark.parametrize(("present", "wanted", "blamed"), [
    ("add", "__add__", "def add"), ("tanH", "tanh", "def tanH"), ("__div__", "__truediv__", "def __div__"),
    ("__mult__", "__mul__", "def __mult__"), ("ReLU", "relu", "def ReLU"), ("plot", "__radd__", "class V"),
])
def test_a_missing_method_is_blamed_on_its_misspelling_or_the_class(present, wanted, blamed):
    source = f"""
    class V:
        def __init__(self, data):
            self.data = data

        def __radd__(self, other):
            return self + other

        def {present}(self, other=None):
            return self
    """
    cls = tree_of(source).body[0]
    expected = ("__init__", "__radd__", "__add__", "__mul__", "tanh", "relu", "__truediv__")
    want = "class V" if wanted == "__radd__" else blamed
    if wanted == "__radd__":  # the method is there: ask for one that is not, with nothing similar
        wanted = "__rsub__"
    assert st.missing_method_line(cls, wanted, expected) == line_of(source, want)


# ---------------------------------------------------------------------------------------------- backward()

ITERATIVE = """
class V:
    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
"""

LECTURE_TOPO = """
class V:
    def backward(self):
        topo = []
        visited = set()
        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
        for node in topo:
            node._backward()
"""


def test_backward_seed_or_where_it_belongs():
    assert st.seed_line(tree_of(ITERATIVE), 3) == line_of(ITERATIVE, "self.grad = 1.0")
    assert st.seed_line(tree_of(LECTURE_TOPO), 3) == line_of(LECTURE_TOPO, "for node in topo")


def test_backward_order_blames_the_loop_unless_it_already_reverses():
    assert st.order_line(tree_of(LECTURE_TOPO), 3) == line_of(LECTURE_TOPO, "for node in topo")
    assert st.order_line(tree_of(ITERATIVE), 3) == line_of(ITERATIVE, "topo.append(node)")
    sliced = LECTURE_TOPO.replace("for node in topo:", "for node in topo[::-1]:")
    assert st.order_line(tree_of(sliced), 3) == line_of(sliced, "topo.append(v)")


def test_backward_visits_blame_the_append_or_the_recursion():
    assert st.topo_append_line(tree_of(LECTURE_TOPO), 3) == line_of(LECTURE_TOPO, "topo.append(v)")
    recursive = """
    class V:
        def backward(self):
            self._backward()
            for child in self._prev:
                child.backward()
    """
    assert st.topo_append_line(tree_of(recursive), line_of(recursive, "def backward")) == line_of(recursive,
                                                                                                   "child.backward")
    assert st.backward_call_line(tree_of(recursive), line_of(recursive, "def backward")) == line_of(
        recursive, "self._backward()")


# ---------------------------------------------------------------------------------------------- zero_grad()

@pytest.mark.parametrize(("body", "blamed"), [
    ("for p in self.parameters()[:-1]:\n                p.grad = 0.0", "for p in"),
    ("for p in self.parameters():\n                p = 0.0", "p = 0.0"),
])
def test_zero_grad_blames_the_loop_or_the_statement_that_should_reset(body, blamed):
    source = f"""
    class Module:
        def zero_grad(self):
            {body}
    """
    assert st.reset_line(tree_of(source), line_of(source, "def zero_grad")) == line_of(source, blamed)


def test_zero_grad_writes_to_data_and_grad():
    source = """
    class Module:
        def zero_grad(self):
            for p in self.parameters():
                p.grad = None
                p.data = 0.0
    """
    first = line_of(source, "def zero_grad")
    assert st.data_write_line(tree_of(source), first) == line_of(source, "p.data = 0.0")
    assert st.grad_write_line(tree_of(source), first) == line_of(source, "p.grad = None")


# ---------------------------------------------------------------------------------------------- train()

TRAIN = """
def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for k in range(steps):
        ypred = [model(x) for x in xs]
        loss = sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))
        loss.backward()
        model.zero_grad()
        for p in model.parameters():
            p.data = p.data + lr * p.grad
        losses.append(loss.data)
    return losses
"""


def test_train_statements():
    tree = tree_of(TRAIN)
    assert st.update_line(tree, 2) == line_of(TRAIN, "p.data = p.data")
    assert st.zero_grad_line(tree, 2) == line_of(TRAIN, "model.zero_grad()")
    assert st.loss_line(tree, 2) == line_of(TRAIN, "loss = sum")
    assert st.record_line(tree, 2) == line_of(TRAIN, "losses.append")
    assert st.steps_line(tree, 2) == line_of(TRAIN, "for k in range")
    assert st.return_line(tree, 2) == line_of(TRAIN, "return losses")


def test_train_without_zero_grad_or_return_or_with_the_record_outside_the_loop():
    source = TRAIN.replace("        model.zero_grad()\n", "").replace("    return losses\n", "").replace(
        "        losses.append(loss.data)\n", "    losses.append(loss.data)\n")
    tree = tree_of(source)
    assert st.zero_grad_line(tree, 2) == line_of(source, "loss.backward()")
    assert st.steps_line(tree, 2) == line_of(source, "losses.append")
    assert st.return_line(tree, 2) == line_of(source, "losses.append") + 1
    uncalled = source.replace("loss.backward()", "loss.backward")
    assert st.backward_mention_line(tree_of(uncalled), 2) == line_of(uncalled, "loss.backward")


def test_a_loop_resetting_grads_by_hand_counts_as_zero_grad():
    source = TRAIN.replace("model.zero_grad()", "for q in model.parameters(): q.grad = 0")
    assert st.zero_grad_line(tree_of(source), 2) == line_of(source, "q.grad = 0")


# ---------------------------------------------------------------------------------------------- reading sources

def test_unparsable_source_gives_no_statement_and_blame_keeps_the_first_line():
    sources = st.Sources({"engine.py": "def f(:\n", "deep.py": "x = " + "(" * 200_000 + ")" * 200_000})
    assert sources.tree("engine.py") is None and sources.tree("deep.py") is None  # too nested to parse
    ev = Evidence([], {}, {}, sources=sources)
    assert st.blame(ev, ["engine.py", 7], st.forward_line) == ("engine.py", 7)
    assert st.blame(ev, None, st.forward_line) is None
    assert st.blame(ev, ["engine.py", "7"], st.forward_line) is None


def test_read_sources_skips_symlinks_and_huge_files(tmp_path):
    staged = tmp_path / "staged"
    (staged / "micrograd").mkdir(parents=True)
    (staged / "micrograd" / "engine.py").write_text("class Value:\n    pass\n")
    secret = tmp_path / "secret.py"
    secret.write_text("password = 1\n")
    os.symlink(secret, staged / "micrograd" / "nn.py")
    (staged / "micrograd" / "train.py").write_text("#" * (st.MAX_SOURCE_BYTES + 1))
    sources = st.read_sources(staged, lambda path: path)
    assert set(sources.texts) == {"micrograd/engine.py"}
    assert sources.find_class("Value")[0] == "micrograd/engine.py"


def test_the_lines_come_from_the_source_as_handed_in_not_as_rewritten_at_import(tmp_path):
    """A submission that rewrites its own engine at import cannot move the lines the report points at:
    the parent reads the staged source before any child runs."""
    mutant = next(m for m in corpus_tools.load_mutants() if m["name"] == "mul_swapped_factors")
    root = corpus_tools.build_mutant(mutant, tmp_path / "m")
    engine = Path(root) / "micrograd" / "engine.py"
    engine.write_text("import pathlib\npathlib.Path(__file__).write_text('\\n' * 500)\n" + engine.read_text())
    probed = probe_submission(root)
    source = probed.evidence.sources.texts["micrograd/engine.py"]
    assert "self.grad += self.data * out.grad" in source
    case = next(c for c in probed.evidence.cases("mul", kind="op", check="value"))
    line = st.blame(probed.evidence, case.student["backward_where"], st.gradient_line, 0)[1]
    assert source.splitlines()[line - 1].strip() == "self.grad += self.data * out.grad"


def test_a_reset_between_backward_and_the_update_by_call_or_by_hand():
    tree = tree_of(TRAIN)
    assert st.reset_after_backward_line(tree, 2) == line_of(TRAIN, "model.zero_grad()")
    by_hand = TRAIN.replace("model.zero_grad()", "for q in model.parameters(): q.grad = 0")
    assert st.reset_after_backward_line(tree_of(by_hand), 2) == line_of(by_hand, "q.grad = 0")
    in_order = TRAIN.replace("        loss.backward()\n        model.zero_grad()\n",
                             "        model.zero_grad()\n        loss.backward()\n")
    assert st.reset_after_backward_line(tree_of(in_order), 2) is None


def test_a_very_long_expression_is_walked_without_recursion():
    source = "class V:\n    def f(self):\n        x = " + "1 + " * 5000 + "1\n        return V(x)\n"
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(50_000)
        tree = ast.parse(source)
        sys.setrecursionlimit(1000)  # far less than the 5000 levels of the expression
        assert st.forward_line(tree, 2) == 3
        assert st.gradient_line(tree, 2, 0) == 3  # no `.grad` written: its first statement
    finally:
        sys.setrecursionlimit(limit)


def test_the_append_to_the_order_not_to_a_work_stack():
    source = ITERATIVE.replace("                topo.append(node)\n", "                pass\n").replace(
        "                stack.append((node, True))\n", "                stack.append((node, True))\n                topo.append(node)\n")
    assert line_of(source, "stack.append((node, True))") < line_of(source, "topo.append(node)")
    assert st.order_line(tree_of(source), 3) == line_of(source, "topo.append(node)")


def test_a_loss_computed_by_a_helper_of_the_same_file_is_blamed_on_the_helper():
    source = """
    def squared_error(predictions, targets):
        return sum((p - t) ** 2 for p, t in zip(predictions, targets)) / len(targets)

    def train(model, xs, ys, steps=20, lr=0.05):
        for _ in range(steps):
            loss = squared_error([model(x) for x in xs], ys)
            loss.backward()
    """
    assert st.loss_line(tree_of(source), line_of(source, "def train")) == line_of(source, "return sum")
