"""A known-good model kit for grading training loops: `Value`, `Module`, `Neuron`, `Layer` and `MLP` with
micrograd's public API and numbers, differentiated in forward mode.

Every `Value` carries the partial derivatives of itself with respect to each leaf it was computed from
(`_partials`, leaf → ∂self/∂leaf); `backward()` adds them to the leaves' `.grad`, as micrograd's reverse
pass accumulates into them, so a loop that forgets `zero_grad()` drifts exactly as it would on the lecture's
engine. Forward values follow the lecture's formulas in the lecture's order (`a / b` is `a * b**-1`), so
the same parameters give the same loss to the last bit; gradients, and so the steps they take, agree to
rounding. Sharing no code with the reverse-mode engine students write, this kit ships with the student
edition of the grader. It runs as source text in the sandboxed child: standard library only.
"""
import math
import random


class Value:
    """A scalar, its gradient, and ∂self/∂leaf for every leaf it depends on.

    A `Value` made by the caller is a leaf; one made by an operation is not, and its `_partials` dict is
    never changed afterwards, so results may share it.
    """

    label = ''
    _op = ''

    def __init__(self, data, _children=(), _op='', label=''):
        # Built by hand with children, a node still starts no chain rule (as in micrograd): it is a leaf.
        self.data = data
        self.grad = 0.0
        self._partials = {self: 1.0}
        if _op:
            self._op = _op
        if label:
            self.label = label

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        if not isinstance(other, Value):
            return _result(self.data + other, self._partials)
        return _result(self.data + other.data, _sum(self._partials, other._partials))

    def __mul__(self, other):
        if not isinstance(other, Value):
            return _result(self.data * other, _scale(self._partials, other))
        return _result(self.data * other.data, _combine(self._partials, other.data, other._partials, self.data))

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only int/float exponents are supported"
        return _result(self.data**other, _scale(self._partials, other * self.data ** (other - 1)))

    def exp(self):
        e = math.exp(self.data)
        return _result(e, _scale(self._partials, e))

    def tanh(self):
        t = math.tanh(self.data)
        return _result(t, _scale(self._partials, 1 - t**2))

    def relu(self):
        out = 0.0 if self.data < 0 else self.data
        return _result(out, _scale(self._partials, 1.0 if out > 0 else 0.0))

    def backward(self):
        """Add ∂self/∂leaf to every leaf's grad; self's own grad becomes 1."""
        for leaf, partial in self._partials.items():
            leaf.grad += partial
        self.grad = 1.0

    def __neg__(self):  # -self
        return self * -1

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __rsub__(self, other):  # other - self
        return other + (-self)

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):  # self / other
        return self * other**-1

    def __rtruediv__(self, other):  # other / self
        return other * self**-1


_new_value = object.__new__


def _result(data, partials):
    """The Value an operation returns: no leaf, just its value and its partials."""
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out._partials = partials
    return out


def _scale(partials, factor):
    """Chain rule through a function of one input: ∂out/∂leaf = factor · ∂in/∂leaf."""
    return {leaf: partial * factor for leaf, partial in partials.items()}


def _sum(left, right):
    """Chain rule through a sum: ∂out/∂leaf = ∂left/∂leaf + ∂right/∂leaf (the larger dict copied, the smaller added)."""
    if len(left) < len(right):
        left, right = right, left
    partials = left.copy()
    get = partials.get
    for leaf, partial in right.items():
        partials[leaf] = get(leaf, 0.0) + partial
    return partials


def _combine(left, left_factor, right, right_factor):
    """Chain rule through a function of two inputs: both inputs' partials, scaled and summed per leaf."""
    partials = {leaf: partial * left_factor for leaf, partial in left.items()}
    get = partials.get
    for leaf, partial in right.items():
        partials[leaf] = get(leaf, 0.0) + partial * right_factor
    return partials


class Module:
    """Anything with parameters: the gradients of all of them can be reset at once."""

    def zero_grad(self):
        for parameter in self.parameters():
            parameter.grad = 0.0

    def parameters(self):
        return []


class Neuron(Module):
    """tanh(w · x + b), drawing its weights and then its bias from `random` as micrograd's Neuron does."""

    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    """`nout` independent neurons that all read the same inputs."""

    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP(Module):
    """Layers in sequence: MLP(3, [4, 4, 1]) maps 3 inputs through two hidden layers of 4 to 1 output."""

    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]
