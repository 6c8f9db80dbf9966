# Gradients live in `.gradient`: the spelled-out name reads better to me than `.grad`.
import math
import random


def ensure_value(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.gradient = 0.0
        self._prev = list(_children)
        self._op = _op
        self._backward = lambda: None

    def __repr__(self):
        return f"Value(data={self.data:.4f}, gradient={self.gradient:.4f})"

    def __add__(self, other):
        other = ensure_value(other)
        out = Value(self.data + other.data, [self, other], '+')

        def _backward():
            self.gradient += out.gradient
            other.gradient += out.gradient
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = ensure_value(other)
        out = Value(self.data * other.data, [self, other], '*')

        def _backward():
            self.gradient += other.data * out.gradient
            other.gradient += self.data * out.gradient
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"exponent must be int or float, not {type(exponent).__name__}")
        out = Value(self.data ** exponent, [self], f'**{exponent}')

        def _backward():
            self.gradient += exponent * self.data ** (exponent - 1) * out.gradient
        out._backward = _backward
        return out

    def __neg__(self):
        out = Value(-self.data, [self], 'neg')

        def _backward():
            self.gradient += -1.0 * out.gradient
        out._backward = _backward
        return out

    def __sub__(self, other):
        return self + (-ensure_value(other))

    def __rsub__(self, other):
        return ensure_value(other) + (-self)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * ensure_value(other) ** -1

    def __rtruediv__(self, other):
        return ensure_value(other) * self ** -1

    def exp(self):
        out = Value(math.exp(self.data), [self], 'exp')

        def _backward():
            self.gradient += out.data * out.gradient
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), [self], 'tanh')

        def _backward():
            self.gradient += (1 - out.data ** 2) * out.gradient
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, [self], 'relu')

        def _backward():
            self.gradient += (1.0 if self.data > 0 else 0.0) * out.gradient
        out._backward = _backward
        return out

    def backward(self):
        topo = []
        visited = set()

        def build(node):
            if id(node) in visited:
                return
            visited.add(id(node))
            for child in node._prev:
                build(child)
            topo.append(node)

        build(self)
        self.gradient = 1.0
        for node in reversed(topo):
            node._backward()


class Module:
    def zero_grad(self):
        for p in self.parameters():
            p.gradient = 0.0

    def parameters(self):
        return []


class Neuron(Module):
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        activation = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return activation.tanh()

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
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for _ in range(steps):
        predictions = [model(x) for x in xs]
        loss = sum((pred - y) ** 2 for pred, y in zip(predictions, ys))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.gradient
        losses.append(loss.data)
    return losses


if __name__ == "__main__":
    a, b = Value(2.0), Value(-3.0)
    c = a * b + b ** 2
    c.backward()
    print(c, a.gradient, b.gradient)
