# my micrograd homework
# each Value remembers which values it came_from so we can go back through the graph later

import math
import random

print("building micrograd...")


class Value:
    def __init__(self, data, came_from=[], op=""):
        self.data = data
        self.grad = 0
        self.came_from = list(came_from)  # copy, so the default list is never shared
        self.op = op
        self._backward = lambda: None

    def __repr__(self):
        return "Value(data=" + str(self.data) + ", grad=" + str(self.grad) + ")"

    def __add__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        out = Value(self.data + other.data, [self, other], "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __radd__(self, other):
        return self + other

    def __mul__(self, other):
        if not isinstance(other, Value):
            other = Value(other)
        out = Value(self.data * other.data, [self, other], "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other

    def __pow__(self, other):
        out = Value(self.data ** other, [self], "**")

        def _backward():
            self.grad += other * self.data ** (other - 1) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

    def exp(self):
        out = Value(math.exp(self.data), [self], "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        n = self.data
        t = (math.exp(2 * n) - 1) / (math.exp(2 * n) + 1)
        out = Value(t, [self], "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        if self.data > 0:
            out = Value(self.data, [self], "relu")
        else:
            out = Value(0, [self], "relu")

        def _backward():
            if self.data > 0:
                self.grad += out.grad
        out._backward = _backward
        return out

    def backward(self):
        # topological sort (from the video)
        topo = []
        visited = set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for c in v.came_from:
                    build(c)
                topo.append(v)
        build(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()


# testing it on the example from the video
x1 = Value(2.0)
x2 = Value(0.0)
w1 = Value(-3.0)
w2 = Value(1.0)
b = Value(6.8813735870195432)
o = (x1 * w1 + x2 * w2 + b).tanh()
o.backward()
print("o =", o)
print("x1.grad =", x1.grad, "(should be -1.5)")
print("w1.grad =", w1.grad, "(should be 1.0)")


class Module:
    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []


class Neuron(Module):
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for i in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = self.b
        for i in range(len(self.w)):
            act = act + self.w[i] * x[i]
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]

    def zero_grad(self):
        # reset my own weights and bias
        for w in self.w:
            w.grad = 0
        self.b.grad = 0


class Layer(Module):
    def __init__(self, nin, nout):
        self.neurons = []
        for i in range(nout):
            self.neurons.append(Neuron(nin))

    def __call__(self, x):
        outs = []
        for n in self.neurons:
            outs.append(n(x))
        if len(outs) == 1:
            return outs[0]
        return outs

    def parameters(self):
        params = []
        for n in self.neurons:
            params += n.parameters()
        return params


class MLP(Module):
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = []
        for i in range(len(nouts)):
            self.layers.append(Layer(sz[i], sz[i + 1]))

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
    for step in range(steps):
        ypred = [model(x) for x in xs]
        loss = Value(0)
        for i in range(len(ys)):
            loss = loss + (ypred[i] - ys[i]) ** 2
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
        print("step", step, "loss", loss.data)
    return losses
