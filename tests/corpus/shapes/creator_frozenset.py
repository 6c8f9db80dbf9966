# Scalar autograd, in the style of define-by-run frameworks: every result remembers the values
# that created it (`_creator`, a frozenset) and how to push a gradient back to them.
import math
import random


class Value:
    """One number in a computation graph."""

    def __init__(self, data, creator=frozenset(), op=None):
        self.data = data
        self.grad = 0.0
        self._creator = frozenset(creator)
        self._op = op
        self._backward = None

    def __repr__(self):
        return "Value(%r)" % (self.data,)

    def _make(self, data, inputs, op, backward):
        out = Value(data, inputs, op)
        out._backward = lambda: backward(out)
        return out

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)

        def grad_fn(out):
            self.grad += out.grad
            other.grad += out.grad
        return self._make(self.data + other.data, (self, other), 'add', grad_fn)

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)

        def grad_fn(out):
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        return self._make(self.data * other.data, (self, other), 'mul', grad_fn)

    def __pow__(self, n):
        assert isinstance(n, (int, float))

        def grad_fn(out):
            self.grad += n * (self.data ** (n - 1)) * out.grad
        return self._make(self.data ** n, (self,), 'pow', grad_fn)

    def exp(self):
        def grad_fn(out):
            self.grad += out.data * out.grad
        return self._make(math.exp(self.data), (self,), 'exp', grad_fn)

    def tanh(self):
        t = math.tanh(self.data)

        def grad_fn(out):
            self.grad += (1 - t ** 2) * out.grad
        return self._make(t, (self,), 'tanh', grad_fn)

    def relu(self):
        def grad_fn(out):
            self.grad += (self.data > 0) * out.grad
        return self._make(self.data * (self.data > 0), (self,), 'relu', grad_fn)

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return self ** -1 * other

    def backward(self):
        # topological order by iterative DFS; the stack holds (node, children_pushed)
        order = []
        done = set()
        stack = [(self, False)]
        while stack:
            node, pushed = stack.pop()
            if pushed:
                order.append(node)
            elif node not in done:
                done.add(node)
                stack.append((node, True))
                stack.extend((c, False) for c in node._creator)
        self.grad = 1.0
        for node in reversed(order):
            if node._backward is not None:
                node._backward()


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
        s = self.b
        for w, v in zip(self.w, x):
            s = w * v + s
        return s.tanh()

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
        dims = [nin] + nouts
        self.layers = [Layer(dims[i], dims[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for l in self.layers:
            x = l(x)
        return x

    def parameters(self):
        return [p for l in self.layers for p in l.parameters()]


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for step in range(steps):
        preds = [model(x) for x in xs]
        loss = sum([(p - y) ** 2 for p, y in zip(preds, ys)])
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
