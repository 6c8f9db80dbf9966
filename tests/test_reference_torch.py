"""The reference solution against PyTorch in float64: every operation, the lecture's examples, and training."""
from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is an optional test extra; CI installs it")

TOL = 1e-9
XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def leaf(x: float):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def close(ours: float, theirs) -> bool:
    """Equal to float64 rounding: within 1e-9, relative to the size of torch's value once it exceeds 1."""
    theirs = float(theirs.detach()) if torch.is_tensor(theirs) else float(theirs)
    return abs(ours - theirs) <= TOL * max(1.0, abs(theirs))


# Each expression is written once and run on both engines: plain numbers on either side of every operation.
BINARY = {
    "a+b": lambda a, b: a + b,
    "a+2": lambda a, b: a + 2.0,
    "2+a": lambda a, b: 2.0 + a,
    "a-b": lambda a, b: a - b,
    "a-2": lambda a, b: a - 2.0,
    "2-a": lambda a, b: 2.0 - a,
    "a*b": lambda a, b: a * b,
    "a*2": lambda a, b: a * 2.0,
    "2*a": lambda a, b: 2.0 * a,
    "a/b": lambda a, b: a / b,
    "a/2": lambda a, b: a / 2.0,
    "2/a": lambda a, b: 2.0 / a,
    "-a": lambda a, b: -a,
    "a**3": lambda a, b: a**3,
    "a**-2": lambda a, b: a**-2,
    "a**0.5": lambda a, b: a**0.5,
    "exp": lambda a, b: a.exp(),
    "tanh": lambda a, b: a.tanh(),
    "relu": lambda a, b: a.relu(),
    "relu-negative": lambda a, b: (a - 5.0).relu(),
    "composite": lambda a, b: ((a * b).tanh() + (b / a).exp() - a**2 * 0.5).relu() * b,
}


@pytest.mark.parametrize("expression", BINARY.values(), ids=BINARY.keys())
@pytest.mark.parametrize("a_value, b_value", [(1.5, -0.75), (0.3, 2.2)])
def test_operation_matches_torch(reference, expression, a_value, b_value):
    a, b = reference.Value(a_value), reference.Value(b_value)
    out = expression(a, b)
    out.backward()
    ta, tb = leaf(a_value), leaf(b_value)
    tout = expression(ta, tb)
    tout.backward()
    assert close(out.data, tout), f"forward: ours {out.data!r}, torch {tout.item()!r}"
    assert close(a.grad, ta.grad if ta.grad is not None else 0.0)
    assert close(b.grad, tb.grad if tb.grad is not None else 0.0)


def test_lecture_neuron_matches_torch(reference):
    values = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    ours = {k: reference.Value(v) for k, v in values.items()}
    theirs = {k: leaf(v) for k, v in values.items()}
    o = (ours["x1"] * ours["w1"] + ours["x2"] * ours["w2"] + ours["b"]).tanh()
    o.backward()
    to = (theirs["x1"] * theirs["w1"] + theirs["x2"] * theirs["w2"] + theirs["b"]).tanh()
    to.backward()
    assert close(o.data, to)
    for name in values:
        assert close(ours[name].grad, theirs[name].grad), name


def test_value_used_twice_matches_torch(reference):
    a, ta = reference.Value(3.0), leaf(3.0)
    (a + a).backward()
    (ta + ta).backward()
    assert close(a.grad, ta.grad) and a.grad == 2.0


def test_product_of_sum_and_product_matches_torch(reference):
    a, b = reference.Value(-2.0), reference.Value(3.0)
    ta, tb = leaf(-2.0), leaf(3.0)
    ((a * b) * (a + b)).backward()
    ((ta * tb) * (ta + tb)).backward()
    assert close(a.grad, ta.grad) and close(b.grad, tb.grad)


def readme_expression(a, b):
    """The example of micrograd's README, which reuses values and mixes every operation."""
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def test_micrograd_readme_example(reference):
    a, b = reference.Value(-4.0), reference.Value(2.0)
    g = readme_expression(a, b)
    g.backward()
    ta, tb = leaf(-4.0), leaf(2.0)
    tg = readme_expression(ta, tb)
    tg.backward()
    assert close(g.data, tg) and close(a.grad, ta.grad) and close(b.grad, tb.grad)
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def test_training_matches_torch(reference):
    random.seed(1337)
    model = reference.MLP(3, [4, 4, 1])
    weights = [[(list(n.w), n.b) for n in layer.neurons] for layer in model.layers]
    torch_weights = [
        [(leaf_vector([w.data for w in ws]), leaf(b.data)) for ws, b in layer] for layer in weights
    ]
    lr, steps = 0.05, 3
    losses = reference.train(model, XS, YS, steps=steps, lr=lr)
    torch_losses = []
    params = [t for layer in torch_weights for w, b in layer for t in (w, b)]
    for _ in range(steps):
        loss = sum((torch_mlp(torch_weights, x) - y) ** 2 for x, y in zip(XS, YS))
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        torch_losses.append(loss.item())
    assert all(close(ours, theirs) for ours, theirs in zip(losses, torch_losses)), (losses, torch_losses)
    for layer, torch_layer in zip(weights, torch_weights):
        for (ws, b), (tw, tb) in zip(layer, torch_layer):
            assert all(close(w.data, t) for w, t in zip(ws, tw))
            assert close(b.data, tb)


def leaf_vector(values: list[float]):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def torch_mlp(layers, x):
    """The reference MLP's arithmetic in torch: each neuron is tanh(w · x + b), layer after layer."""
    out = torch.tensor(x, dtype=torch.float64)
    for layer in layers:
        out = torch.stack([(w * out).sum().add(b).tanh() for w, b in layer])
    return out[0]
