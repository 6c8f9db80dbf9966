"""Autograd with the backward pass called `backprop`, as in many textbooks."""
import math
import random


class Value:
    def __init__(self, data, _children=(), _op='', label=''):
        self.data = data
        self.grad = 0.0
        self._prev = list(_children)
        self._op = _op
        self.label = label
        self._backward = lambda: None

    def __repr__(self):
        return f"Value({self.label or self._op}: {self.data:.4f})"

    def _binary(self, other, data, op, grads):
        """`grads(a, b)` gives d(out)/da and d(out)/db at the current inputs."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(data(self.data, other.data), (self, other), op)

        def _backward():
            da, db = grads(self.data, other.data)
            self.grad += da * out.grad
            other.grad += db * out.grad
        out._backward = _backward
        return out

    def __add__(self, other):
        return self._binary(other, lambda a, b: a + b, '+', lambda a, b: (1.0, 1.0))

    def __mul__(self, other):
        return self._binary(other, lambda a, b: a * b, '*', lambda a, b: (b, a))

    def _unary(self, data, op, grad):
        """`grad(x, y)` gives d(out)/dx from the input x and the output y."""
        out = Value(data, (self,), op)

        def _backward():
            self.grad += grad(self.data, out.data) * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        assert isinstance(k, (int, float))
        return self._unary(self.data ** k, f'**{k}', lambda x, y: k * x ** (k - 1))

    def exp(self):
        return self._unary(math.exp(self.data), 'exp', lambda x, y: y)

    def tanh(self):
        return self._unary(math.tanh(self.data), 'tanh', lambda x, y: 1 - y ** 2)

    def relu(self):
        return self._unary(max(self.data, 0.0), 'relu', lambda x, y: 1.0 if x > 0 else 0.0)

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

    def backprop(self):
        topo, visited = [], set()

        def visit(v):
            if id(v) in visited:
                return
            visited.add(id(v))
            for c in v._prev:
                visit(c)
            topo.append(v)
        visit(self)
        self.grad = 1.0
        for v in topo[::-1]:
            v._backward()


class Module:
    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self):
        return []


class Neuron(Module):
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1), label='w') for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1), label='b')

    def __call__(self, x):
        return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for _ in range(steps):
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
        model.zero_grad()
        loss.backprop()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
