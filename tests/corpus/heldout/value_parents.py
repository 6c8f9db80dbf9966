#!/usr/bin/env python3
"""engine + nn + training in one script.

Naming: a node's number is `.value`, the nodes it was computed from are its `_parents`.
Run it to train a small MLP on the four lecture examples.
"""
import math
import random


class Value:
    def __init__(self, value, parents=(), op=""):
        self.value = value
        self.grad = 0.0
        self._parents = tuple(parents)
        self._op = op
        self._backward = lambda: None

    def __repr__(self):
        return "Value(value=%.5f, grad=%.5f)" % (self.value, self.grad)

    @staticmethod
    def wrap(x):
        if isinstance(x, Value):
            return x
        return Value(x)

    def __add__(self, other):
        other = Value.wrap(other)
        out = Value(self.value + other.value, (self, other), "+")

        def backward_fn():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward_fn
        return out

    def __mul__(self, other):
        other = Value.wrap(other)
        out = Value(self.value * other.value, (self, other), "*")

        def backward_fn():
            self.grad += other.value * out.grad
            other.grad += self.value * out.grad
        out._backward = backward_fn
        return out

    def __pow__(self, exponent):
        assert isinstance(exponent, (int, float)), "exponent must be an int or a float"
        out = Value(self.value ** exponent, (self,), "**%s" % exponent)

        def backward_fn():
            self.grad += exponent * self.value ** (exponent - 1) * out.grad
        out._backward = backward_fn
        return out

    def exp(self):
        out = Value(math.exp(self.value), (self,), "exp")

        def backward_fn():
            self.grad += out.value * out.grad
        out._backward = backward_fn
        return out

    def tanh(self):
        e2x = math.exp(2 * self.value)
        t = (e2x - 1) / (e2x + 1)
        out = Value(t, (self,), "tanh")

        def backward_fn():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = backward_fn
        return out

    def relu(self):
        out = Value(self.value if self.value > 0 else 0.0, (self,), "relu")

        def backward_fn():
            self.grad += (out.value > 0) * out.grad
        out._backward = backward_fn
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return -self + other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return self ** -1 * other

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def backward(self):
        topo = []
        visited = set()

        def build(node):
            if node in visited:
                return
            visited.add(node)
            for parent in node._parents:
                build(parent)
            topo.append(node)

        build(self)
        self.grad = 1.0
        for node in topo[::-1]:
            node._backward()


class Module:
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [neuron(x) for neuron in self.neurons]
        if len(outs) == 1:
            return outs[0]
        return outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP(Module):
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = []
        for i in range(len(nouts)):
            self.layers.append(Layer(sizes[i], sizes[i + 1]))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        params = []
        for layer in self.layers:
            params += layer.parameters()
        return params


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for _ in range(steps):
        loss = 0
        for x, ygt in zip(xs, ys):
            yout = model(x)
            loss = loss + (yout - ygt) ** 2
        losses.append(loss.value)

        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.value += -lr * p.grad
    return losses


if __name__ == "__main__":
    random.seed(3)
    net = MLP(3, [4, 4, 1])
    data = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    targets = [1.0, -1.0, -1.0, 1.0]
    history = train(net, data, targets, steps=100, lr=0.05)
    print("first loss %.4f, last loss %.4f" % (history[0], history[-1]))
    print([round(net(x).value, 3) for x in data])
