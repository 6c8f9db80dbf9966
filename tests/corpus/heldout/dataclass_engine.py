"""micrograd rewritten with a dataclass.

The number is `value` (I kept confusing `.data` with the training data), the inputs of a node are its
`_parents`, and zero_grad walks the modules recursively: every module resets its sub-modules and a
neuron resets its own weights and bias.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable


def _noop() -> None:
    return None


@dataclass(eq=False)
class Value:
    value: float
    _parents: tuple = ()
    _op: str = ""
    grad: float = 0.0
    _backward: Callable[[], None] = field(default=_noop, repr=False)

    def __add__(self, other) -> Value:
        other = as_value(other)
        out = Value(self.value + other.value, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other) -> Value:
        other = as_value(other)
        out = Value(self.value * other.value, (self, other), "*")

        def _backward():
            self.grad += other.value * out.grad
            other.grad += self.value * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        assert isinstance(k, (int, float))
        out = Value(self.value ** k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.value ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.value), (self,), "exp")

        def _backward():
            self.grad += out.value * out.grad
        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.value)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(max(self.value, 0.0), (self,), "relu")

        def _backward():
            if self.value > 0:
                self.grad += out.grad
        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other) -> Value:
        return self + (-other)

    def __truediv__(self, other) -> Value:
        return self * other ** -1

    def __radd__(self, other) -> Value:
        return self + other

    def __rmul__(self, other) -> Value:
        return self * other

    def __rsub__(self, other) -> Value:
        return as_value(other) - self

    def __rtruediv__(self, other) -> Value:
        return as_value(other) / self

    def backward(self) -> None:
        order: list[Value] = []
        done: set[int] = set()

        def visit(node: Value) -> None:
            if id(node) in done:
                return
            done.add(id(node))
            for parent in node._parents:
                visit(parent)
            order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def as_value(x) -> Value:
    return x if isinstance(x, Value) else Value(float(x))


class Module:
    def children(self) -> list[Module]:
        return []

    def parameters(self) -> list[Value]:
        return [p for child in self.children() for p in child.parameters()]

    def zero_grad(self) -> None:
        for child in self.children():
            child.zero_grad()


class Neuron(Module):
    def __init__(self, nin: int):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def zero_grad(self) -> None:
        for w in self.w:
            w.grad = 0.0
        self.b.grad = 0.0


class Layer(Module):
    def __init__(self, nin: int, nout: int):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def children(self) -> list[Module]:
        return self.neurons

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs


class MLP(Module):
    def __init__(self, nin: int, nouts: list[int]):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def children(self) -> list[Module]:
        return self.layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def train(model: MLP, xs, ys, steps: int = 20, lr: float = 0.05) -> list[float]:
    history = []
    for _ in range(steps):
        ypred = [model(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        history.append(loss.value)

        model.zero_grad()
        loss.backward()

        for p in model.parameters():
            p.value -= lr * p.grad
    return history
