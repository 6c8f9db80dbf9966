"""The reference solution against the numbers of the lecture, without PyTorch."""
from __future__ import annotations

import math
import random
import shutil

import pytest

X1, X2, W1, W2, B = 2.0, 0.0, -3.0, 1.0, 6.8813735870195432
XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def lecture_neuron(Value, activation):
    x1, x2 = Value(X1, label="x1"), Value(X2, label="x2")
    w1, w2 = Value(W1, label="w1"), Value(W2, label="w2")
    b = Value(B, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = activation(n)
    o.label = "o"
    o.backward()
    return o, x1, x2, w1, w2


def tanh_via_exp(n):
    e = (2 * n).exp()
    return (e - 1) / (e + 1)


@pytest.mark.parametrize("activation", [lambda n: n.tanh(), tanh_via_exp], ids=["tanh", "tanh-via-exp"])
def test_lecture_neuron(reference, activation):
    o, x1, x2, w1, w2 = lecture_neuron(reference.Value, activation)
    assert o.data == pytest.approx(math.sqrt(0.5), abs=1e-4), "o = tanh(0.8814) is 0.7071 in the lecture"
    assert x1.grad == pytest.approx(-1.5, abs=1e-6)
    assert w1.grad == pytest.approx(1.0, abs=1e-6)
    assert x2.grad == pytest.approx(0.5, abs=1e-6)
    assert w2.grad == pytest.approx(0.0, abs=1e-12)


def test_a_value_used_twice_accumulates(reference):
    a = reference.Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0, "b = a + a must give a.grad == 2: gradients accumulate with +="


def test_product_of_sum_and_product(reference):
    a, b = reference.Value(-2.0), reference.Value(3.0)
    f = (a * b) * (a + b)  # a²b + ab²
    f.backward()
    assert f.data == -6.0
    assert a.grad == pytest.approx(2 * -2.0 * 3.0 + 3.0**2)  # 2ab + b²
    assert b.grad == pytest.approx((-2.0) ** 2 + 2 * -2.0 * 3.0)  # a² + 2ab


@pytest.mark.parametrize(
    "expression, data, grad",
    [
        (lambda a: a + 2, 5.0, 1.0),
        (lambda a: 2 + a, 5.0, 1.0),
        (lambda a: a + 2.5, 5.5, 1.0),
        (lambda a: 0.5 - a, -2.5, -1.0),
        (lambda a: 0.5 * a, 1.5, 0.5),
        (lambda a: 1.5 / a, 0.5, -1.5 / 9),
        (lambda a: a - 2, 1.0, 1.0),
        (lambda a: 2 - a, -1.0, -1.0),
        (lambda a: a * 2, 6.0, 2.0),
        (lambda a: 2 * a, 6.0, 2.0),
        (lambda a: a / 2, 1.5, 0.5),
        (lambda a: 2 / a, 2 / 3, -2 / 9),
        (lambda a: -a, -3.0, -1.0),
        (lambda a: a**2, 9.0, 6.0),
        (lambda a: a**-1, 1 / 3, -1 / 9),
        (lambda a: a**0.5, math.sqrt(3), 0.5 / math.sqrt(3)),
        (lambda a: a.exp(), math.exp(3), math.exp(3)),
        (lambda a: a.tanh(), math.tanh(3), 1 - math.tanh(3) ** 2),
        (lambda a: a.relu(), 3.0, 1.0),
        (lambda a: (-a).relu(), 0.0, 0.0),
    ],
    ids=["a+2", "2+a", "a+2.5", "0.5-a", "0.5*a", "1.5/a", "a-2", "2-a", "a*2", "2*a", "a/2", "2/a", "-a", "a**2", "a**-1", "a**0.5",
         "exp", "tanh", "relu", "relu-negative"],
)
def test_operations_with_plain_numbers(reference, expression, data, grad):
    a = reference.Value(3.0)
    out = expression(a)
    out.backward()
    assert out.data == pytest.approx(data, rel=1e-12)
    assert a.grad == pytest.approx(grad, rel=1e-12)


def test_power_needs_a_plain_number(reference):
    with pytest.raises(AssertionError):
        reference.Value(2.0) ** reference.Value(2.0)


def test_backward_through_a_deep_chain(reference):
    x = reference.Value(1.0)
    y = x
    for _ in range(10_000):
        y = y + 1
    y.backward()
    assert y.data == 10_001.0
    assert x.grad == 1.0, "backward() must not recurse once per node"


def test_mlp_returns_one_value(reference):
    random.seed(0)
    model = reference.MLP(3, [4, 4, 1])
    out = model([2.0, 3.0, -1.0])
    assert isinstance(out, reference.Value)
    assert len(model.parameters()) == 4 * (3 + 1) + 4 * (4 + 1) + 1 * (4 + 1)


def test_zero_grad_resets_every_parameter(reference):
    random.seed(0)
    model = reference.MLP(3, [4, 1])
    model([1.0, 2.0, 3.0]).backward()
    before = [p.data for p in model.parameters()]
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert [p.data for p in model.parameters()] == before


def test_training_lowers_the_loss_on_the_lecture_data(reference):
    random.seed(1337)
    model = reference.MLP(3, [4, 4, 1])
    losses = reference.train(model, XS, YS, steps=20, lr=0.05)
    assert len(losses) == 20
    assert all(isinstance(loss, float) for loss in losses)
    assert losses[-1] < losses[0] / 2, f"the loss should fall, got {losses[0]:.4f} then {losses[-1]:.4f}"


def test_draw_dot_shows_values_and_operations(reference):
    o, *_ = lecture_neuron(reference.Value, lambda n: n.tanh())
    dot = reference.draw_dot(o)
    assert dot.startswith("digraph {") and dot.rstrip().endswith("}")
    assert "rankdir=LR;" in dot
    assert "{ o | data 0.7071 | grad 1.0000 }" in dot
    assert "{ x1 | data 2.0000 | grad -1.5000 }" in dot
    for op in ("tanh", "+", "*"):
        assert f'[label="{op}", shape=ellipse]' in dot
    nodes, edges = reference.trace(o)
    assert nodes[0] is o
    assert len(nodes) == 10 and len(edges) == 9
    assert dot.count("shape=record") == len(nodes)
    assert dot.count(" -> ") == len(edges) + sum(1 for n in nodes if n._op)
    assert "rankdir=TB;" in reference.draw_dot(o, rankdir="TB")


def test_draw_dot_escapes_labels(reference):
    v = reference.Value(1.0, label='a|b"{c}')
    assert r'a\|b\"\{c\}' in reference.draw_dot(v)


def test_render_without_graphviz_says_what_to_install(reference, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="install Graphviz"):
        reference.render(reference.Value(1.0), tmp_path / "graph.svg")


def test_render_writes_svg_with_graphviz(reference, tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    out = reference.render(reference.Value(1.0, label="x") * 2, tmp_path / "graph.svg")
    assert "<svg" in out.read_text(encoding="utf-8")
