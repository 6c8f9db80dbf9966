"""
CS homework: micrograd from scratch
Name: M. Okafor

I only wrote local derivatives for the "atomic" operations (+, *, **, exp, relu).
tanh and sigmoid are built out of those, so their gradients come for free.
"""

import math
import random
from typing import List, Sequence


class Value:
    """stores a single scalar and its gradient"""

    def __init__(self, data, _children=(), _op='', label=''):
        self.data = data
        self.grad = 0.0
        # internal variables used for autograd graph construction
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    # ------------------------------------------------------------ atomic ops
    def __add__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        result = Value(self.data + other.data, (self, other), '+')

        def _backward():
            self.grad += result.grad
            other.grad += result.grad

        result._backward = _backward
        return result

    def __mul__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        result = Value(self.data * other.data, (self, other), '*')

        def _backward():
            self.grad += other.data * result.grad
            other.grad += self.data * result.grad

        result._backward = _backward
        return result

    def __pow__(self, exponent):
        assert isinstance(exponent, (int, float)), "only int/float exponents"
        result = Value(self.data ** exponent, (self,), f'**{exponent}')

        def _backward():
            self.grad += (exponent * self.data ** (exponent - 1)) * result.grad

        result._backward = _backward
        return result

    def exp(self):
        result = Value(math.e ** self.data, (self,), 'exp')

        def _backward():
            # d/dx e^x = e^x, which is exactly the output
            self.grad += result.data * result.grad

        result._backward = _backward
        return result

    def relu(self):
        result = Value(self.data if self.data > 0 else 0.0, (self,), 'ReLU')

        def _backward():
            if self.data > 0:
                self.grad += result.grad

        result._backward = _backward
        return result

    # ------------------------------------------------------------ composites
    def tanh(self):
        e2x = (self * 2).exp()
        return (e2x - 1) / (e2x + 1)

    def sigmoid(self):
        return 1 / (1 + (-self).exp())

    # ------------------------------------------------------------ sugar
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self ** -1 * other

    # ------------------------------------------------------------ backprop
    def backward(self):
        ordering = []
        visited = set()

        def visit(node):
            if node in visited:
                return
            visited.add(node)
            for child in node._prev:
                visit(child)
            ordering.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(ordering):
            node._backward()

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


class Module:
    def zero_grad(self):
        for param in self.parameters():
            param.grad = 0.0

    def parameters(self) -> List[Value]:
        return []


class Neuron(Module):
    def __init__(self, nin: int):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x: Sequence):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"Neuron({len(self.w)})"


class Layer(Module):
    def __init__(self, nin: int, nout: int):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [neuron(x) for neuron in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP(Module):
    def __init__(self, nin: int, nouts: List[int]):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def train(model: MLP, xs, ys, steps: int = 20, lr: float = 0.05) -> List[float]:
    losses = []
    for _ in range(steps):
        predictions = [model(x) for x in xs]
        loss = sum([(pred - target) ** 2 for pred, target in zip(predictions, ys)], Value(0.0))

        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad

        losses.append(loss.data)
    return losses


if __name__ == "__main__":
    random.seed(42)
    a = Value(0.5)
    print(a.tanh(), math.tanh(0.5))
    model = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    for i, l in enumerate(train(model, xs, ys, steps=30)):
        print(i, round(l, 4))
