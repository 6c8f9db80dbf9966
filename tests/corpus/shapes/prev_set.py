import math, random


class Value:
    def __init__(self, data, prev=(), op=''):
        self.data, self.grad = data, 0.0
        self.prev, self.op = set(prev), op
        self._backward = lambda: None

    def __repr__(self): return f"Value({self.data})"

    @staticmethod
    def wrap(x): return x if isinstance(x, Value) else Value(x)

    def __add__(self, o):
        o = Value.wrap(o); out = Value(self.data + o.data, (self, o), '+')
        def bw(): self.grad += out.grad; o.grad += out.grad
        out._backward = bw; return out

    def __mul__(self, o):
        o = Value.wrap(o); out = Value(self.data * o.data, (self, o), '*')
        def bw(): self.grad += o.data * out.grad; o.grad += self.data * out.grad
        out._backward = bw; return out

    def __pow__(self, k):
        out = Value(self.data ** k, (self,), '**')
        def bw(): self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = bw; return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), 'exp')
        def bw(): self.grad += out.data * out.grad
        out._backward = bw; return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), 'tanh')
        def bw(): self.grad += (1 - out.data ** 2) * out.grad
        out._backward = bw; return out

    def relu(self):
        out = Value(max(0.0, self.data), (self,), 'relu')
        def bw(): self.grad += (out.data > 0) * out.grad
        out._backward = bw; return out

    def __neg__(self): return self * -1
    def __radd__(self, o): return self + o
    def __sub__(self, o): return self + (-o)
    def __rsub__(self, o): return o + (-self)
    def __rmul__(self, o): return self * o
    def __truediv__(self, o): return self * o ** -1
    def __rtruediv__(self, o): return o * self ** -1

    def backward(self):
        topo, seen = [], set()
        stack = [(self, iter(self.prev))]
        seen.add(self)
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                stack.pop(); topo.append(node)
            elif child not in seen:
                seen.add(child); stack.append((child, iter(child.prev)))
        self.grad = 1.0
        for v in reversed(topo): v._backward()


class Module:
    def zero_grad(self):
        for p in self.parameters(): p.grad = 0.0
    def parameters(self): return []


class Neuron(Module):
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
    def __call__(self, x): return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()
    def parameters(self): return self.w + [self.b]


class Layer(Module):
    def __init__(self, nin, nout): self.neurons = [Neuron(nin) for _ in range(nout)]
    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs
    def parameters(self): return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1]) for i in range(len(nouts))]
    def __call__(self, x):
        for l in self.layers: x = l(x)
        return x
    def parameters(self): return [p for l in self.layers for p in l.parameters()]


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    for _ in range(steps):
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
        model.zero_grad(); loss.backward()
        for p in model.parameters(): p.data -= lr * p.grad
        losses.append(loss.data)
    return losses
