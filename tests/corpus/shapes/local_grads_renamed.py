"""Scalar reverse-mode autodiff without closures, with my own names: a node keeps its `inputs` and the
`partials` d(node)/d(input) computed in the forward pass; `backward` multiplies them along the graph."""
import math
import random


class Value:
    def __init__(self, data, inputs=(), partials=()):
        self.data = data
        self.grad = 0.0
        self.inputs = list(inputs)
        self.partials = list(partials)

    def __repr__(self):
        return f"Value({self.data})"

    @staticmethod
    def _lift(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value._lift(other)
        return Value(self.data + other.data, [self, other], [1.0, 1.0])

    def __mul__(self, other):
        other = Value._lift(other)
        return Value(self.data * other.data, [self, other], [other.data, self.data])

    def __pow__(self, k):
        assert isinstance(k, (int, float))
        return Value(self.data ** k, [self], [k * self.data ** (k - 1)])

    def __neg__(self):
        return Value(-self.data, [self], [-1.0])

    def __sub__(self, other):
        other = Value._lift(other)
        return Value(self.data - other.data, [self, other], [1.0, -1.0])

    def __rsub__(self, other):
        return Value._lift(other) - self

    def __truediv__(self, other):
        other = Value._lift(other)
        return Value(self.data / other.data, [self, other], [1 / other.data, -self.data / other.data ** 2])

    def __rtruediv__(self, other):
        return Value._lift(other) / self

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def exp(self):
        e = math.exp(self.data)
        return Value(e, [self], [e])

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, [self], [1 - t * t])

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, [self], [1.0 if self.data > 0 else 0.0])

    def backward(self):
        # Kahn-style: count how many nodes use each node, release a node when all its users are done
        users = {}
        stack, seen = [self], {id(self)}
        while stack:
            node = stack.pop()
            for inp in node.inputs:
                users[id(inp)] = users.get(id(inp), 0) + 1
                if id(inp) not in seen:
                    seen.add(id(inp))
                    stack.append(inp)
        self.grad = 1.0
        ready = [self]
        while ready:
            node = ready.pop()
            for inp, partial in zip(node.inputs, node.partials):
                inp.grad += partial * node.grad
                users[id(inp)] -= 1
                if users[id(inp)] == 0:
                    ready.append(inp)


class Module:
    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self):
        return []


class Neuron(Module):
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

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
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
