"""Homework 1 -- scalar autograd.

Values keep their numbers as numpy float64. The backward pass orders the graph with Kahn's algorithm
(count how many parents each node has, and only process a node once all its parents are done).
"""
from collections import deque
import random

import numpy as np

DEFAULT_STEPS = 20
DEFAULT_LR = 0.05


class Value:
    def __init__(self, data, _children=(), _op="", label=""):
        self.data = np.float64(data)
        self.grad = np.float64(0.0)
        self._prev = tuple(_children)
        self._op = _op
        self._backward = lambda: None
        self.label = label

    def __repr__(self):
        return "Value(%s, grad=%s)" % (self.data, self.grad)

    @staticmethod
    def _lift(x):
        return x if isinstance(x, Value) else Value(x)

    # ---- the r-versions just swap the arguments
    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value._lift(other) + (-self)

    def __rtruediv__(self, other):
        return Value._lift(other) * self ** -1

    # ---- elementary ops
    def __add__(self, other):
        other = Value._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = Value._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += out.grad * other.data
            other.grad += out.grad * self.data

        out._backward = _backward
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            raise TypeError("exponent must be an int or a float")
        out = Value(self.data ** k, (self,), "**%s" % k)

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other ** -1

    def exp(self):
        out = Value(np.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(np.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(np.maximum(self.data, 0.0), (self,), "ReLU")

        def _backward():
            self.grad += np.where(out.data > 0, 1.0, 0.0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        # count parents (a node listed twice in _prev, as in a + a, counts twice)
        n_parents = {}
        stack = [self]
        seen = {id(self)}
        nodes = {id(self): self}
        while stack:
            v = stack.pop()
            for c in v._prev:
                n_parents[id(c)] = n_parents.get(id(c), 0) + 1
                if id(c) not in seen:
                    seen.add(id(c))
                    nodes[id(c)] = c
                    stack.append(c)

        self.grad = np.float64(1.0)
        queue = deque([self])
        while queue:
            v = queue.popleft()
            v._backward()
            for c in v._prev:
                n_parents[id(c)] -= 1
                if n_parents[id(c)] == 0:
                    queue.append(c)


class Module:
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = np.float64(0.0)


class Neuron(Module):
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        total = self.b
        for w_i, x_i in zip(self.w, x):
            total = total + w_i * x_i
        return total.tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        out = [neuron(x) for neuron in self.neurons]
        if len(out) == 1:
            return out[0]
        return out

    def parameters(self):
        params = []
        for neuron in self.neurons:
            params.extend(neuron.parameters())
        return params


class MLP(Module):
    def __init__(self, nin, nouts):
        dims = [nin] + list(nouts)
        self.layers = [Layer(a, b) for a, b in zip(dims[:-1], dims[1:])]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        params = []
        for layer in self.layers:
            params.extend(layer.parameters())
        return params


def squared_error(preds, targets):
    return sum((p - t) ** 2 for p, t in zip(preds, targets))


def train(model, xs, ys, steps=DEFAULT_STEPS, lr=DEFAULT_LR):
    losses = []
    for step in range(steps):
        preds = [model(x) for x in xs]
        loss = squared_error(preds, ys)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data = p.data - lr * p.grad
        losses.append(float(loss.data))
        if step % 5 == 0:
            print(f"step {step:3d}  loss {loss.data:.5f}")
    return losses


if __name__ == "__main__":
    random.seed(0)
    net = MLP(3, [4, 4, 1])
    data = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    targets = [1.0, -1.0, -1.0, 1.0]
    print(train(net, data, targets, steps=50, lr=0.1))
