"""Homework 1: a scalar autograd engine.

No closures: every node remembers which operation made it (`_op`) and backward() looks the
derivative up by that name, one branch per operation.
"""
import math
import random


class Value:
    """A number that remembers how it was computed."""

    def __init__(self, data, children=(), op='', arg=None):
        self.data = float(data)
        self.grad = 0.0
        self._children = tuple(children)
        self._op = op
        self._arg = arg  # the exponent, for '**'

    def __repr__(self):
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f}, op={self._op!r})"

    @staticmethod
    def lift(x):
        return x if isinstance(x, Value) else Value(x)

    # ---- operations: forward only, backward() does the rest ----

    def __add__(self, other):
        other = Value.lift(other)
        return Value(self.data + other.data, (self, other), '+')

    def __mul__(self, other):
        other = Value.lift(other)
        return Value(self.data * other.data, (self, other), '*')

    def __pow__(self, k):
        assert isinstance(k, (int, float)), "exponent must be a plain number"
        return Value(self.data ** k, (self,), '**', k)

    def exp(self):
        return Value(math.exp(self.data), (self,), 'exp')

    def tanh(self):
        return Value(math.tanh(self.data), (self,), 'tanh')

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, (self,), 'relu')

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return Value.lift(other) + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return Value.lift(other) * self ** -1

    # ---- backpropagation ----

    def topological_order(self):
        """Every node of the graph below self, each after all of its children."""
        order = []
        seen = set()
        stack = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            for child in node._children:
                stack.append((child, False))
        return order

    def backward(self):
        order = self.topological_order()
        self.grad = 1.0
        for node in reversed(order):
            g = node._children
            if node._op == '+':
                g[0].grad += node.grad
                g[1].grad += node.grad
            elif node._op == '*':
                g[0].grad += g[1].data * node.grad
                g[1].grad += g[0].data * node.grad
            elif node._op == '**':
                k = node._arg
                g[0].grad += k * g[0].data ** (k - 1) * node.grad
            elif node._op == 'exp':
                g[0].grad += node.data * node.grad
            elif node._op == 'tanh':
                g[0].grad += (1 - node.data ** 2) * node.grad
            elif node._op == 'relu':
                g[0].grad += (node.data > 0) * node.grad


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
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        params = []
        for n in self.neurons:
            params.extend(n.parameters())
        return params


class MLP(Module):
    def __init__(self, nin, nouts):
        sizes = [nin] + list(nouts)
        self.layers = [Layer(a, b) for a, b in zip(sizes, sizes[1:])]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        params = []
        for layer in self.layers:
            params.extend(layer.parameters())
        return params


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for step in range(steps):
        preds = [model(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, preds))
        losses.append(loss.data)

        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data = p.data - lr * p.grad
    return losses


if __name__ == "__main__":
    random.seed(0)
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a.exp()
    c.backward()
    print(c, a.grad, b.grad)

    model = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    for i, l in enumerate(train(model, xs, ys, steps=50, lr=0.1)):
        print(i, l)
