import math, random


def as_value(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    def __init__(self, data, _children=(), _op='', label=''):
        self.data, self.grad = data, 0.0
        self._prev, self._op, self.label = list(_children), _op, label
        self._backward = lambda: None

    def __repr__(self): return f"Value({self.data:.4f}, grad={self.grad:.4f})"

    def __add__(self, o):
        o = as_value(o)
        out = Value(self.data + o.data, [self, o], '+')
        def bw():
            self.grad += out.grad
            o.grad += out.grad
        out._backward = bw
        return out

    def __sub__(self, o):
        o = as_value(o)
        out = Value(self.data - o.data, [self, o], '-')
        def bw():
            self.grad += out.grad
            o.grad -= out.grad
        out._backward = bw
        return out

    def __mul__(self, o):
        o = as_value(o)
        out = Value(self.data * o.data, [self, o], '*')
        def bw():
            self.grad += o.data * out.grad
            o.grad += self.data * out.grad
        out._backward = bw
        return out

    def __truediv__(self, o):
        o = as_value(o)
        out = Value(self.data / o.data, [self, o], '/')
        def bw():
            self.grad += out.grad / o.data
            o.grad -= out.grad * self.data / (o.data * o.data)
        out._backward = bw
        return out

    def __pow__(self, k):
        assert isinstance(k, (int, float))
        out = Value(math.pow(self.data, k), [self], f'^{k}')
        def bw():
            self.grad += k * math.pow(self.data, k - 1) * out.grad
        out._backward = bw
        return out

    def __neg__(self): return self * -1
    def __rsub__(self, o): return as_value(o) - self
    def __rtruediv__(self, o): return as_value(o) / self

    def exp(self):
        out = Value(math.exp(self.data), [self], 'exp')
        def bw(): self.grad += out.data * out.grad
        out._backward = bw
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), [self], 'tanh')
        def bw(): self.grad += (1 - out.data ** 2) * out.grad
        out._backward = bw
        return out

    def relu(self):
        out = Value(max(0, self.data), [self], 'relu')
        def bw(): self.grad += (self.data > 0) * out.grad
        out._backward = bw
        return out

    def backward(self):
        # iterative post-order DFS, then walk it backwards
        order, done, stack = [], set(), [(self, iter(self._prev))]
        done.add(self)
        while stack:
            v, kids = stack[-1]
            nxt = next((c for c in kids if c not in done), None)
            if nxt is None:
                stack.pop()
                order.append(v)
            else:
                done.add(nxt)
                stack.append((nxt, iter(nxt._prev)))
        self.grad = 1.0
        for v in order[::-1]:
            v._backward()


# + and * commute, so the reflected versions are the same functions
Value.__radd__ = Value.__add__
Value.__rmul__ = Value.__mul__


class Module:
    def parameters(self): return []
    def zero_grad(self):
        for p in self.parameters(): p.grad = 0


class Neuron(Module):
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
    def __call__(self, x):
        return sum((w * xi for w, xi in zip(self.w, x)), self.b).tanh()
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
    hist = []
    for _ in range(steps):
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
        hist.append(loss.data)
        loss.backward()
        for p in model.parameters(): p.data -= lr * p.grad
        model.zero_grad()
    return hist
