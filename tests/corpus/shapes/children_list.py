"""A scalar autodiff engine. Each node lists the nodes it was computed from in `_children`."""
import math
import random


def _as_value(x):
    """Numbers on either side of an operator become constant nodes."""
    return x if isinstance(x, Value) else Value(x)


class Value:
    def __init__(self, data, children=(), op=''):
        self.data = float(data)
        self.grad = 0.0
        self._children = list(children)
        self._op = op
        self._backward = lambda: None

    def __repr__(self):
        return f"Value({self.data:.4f}, grad={self.grad:.4f})"

    # --- binary operations -------------------------------------------------

    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, [self, other], '+')

        def backward_add():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward_add
        return out

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, [self, other], '*')

        def backward_mul():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = backward_mul
        return out

    def __sub__(self, other):
        other = _as_value(other)
        out = Value(self.data - other.data, [self, other], '-')

        def backward_sub():
            self.grad += out.grad
            other.grad -= out.grad
        out._backward = backward_sub
        return out

    def __truediv__(self, other):
        other = _as_value(other)
        out = Value(self.data / other.data, [self, other], '/')

        def backward_div():
            self.grad += out.grad / other.data
            other.grad += -self.data / other.data**2 * out.grad
        out._backward = backward_div
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            raise TypeError("exponent must be a number")
        out = Value(self.data ** k, [self], f'^{k}')

        def backward_pow():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = backward_pow
        return out

    # --- reflected -----------------------------------------------------------

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    def __neg__(self):
        out = Value(-self.data, [self], 'neg')

        def backward_neg():
            self.grad -= out.grad
        out._backward = backward_neg
        return out

    # --- unary functions -----------------------------------------------------

    def exp(self):
        out = Value(math.exp(self.data), [self], 'exp')

        def backward_exp():
            self.grad += out.data * out.grad
        out._backward = backward_exp
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, [self], 'tanh')

        def backward_tanh():
            self.grad += (1 - t * t) * out.grad
        out._backward = backward_tanh
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, [self], 'relu')

        def backward_relu():
            if self.data > 0:
                self.grad += out.grad
        out._backward = backward_relu
        return out

    # --- backpropagation -----------------------------------------------------

    def backward(self):
        # post-order DFS without recursion: (node, expanded?) pairs on a stack
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for child in node._children:
                stack.append((child, False))
        self.grad = 1.0
        for node in reversed(order):
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
        total = self.b
        for wi, xi in zip(self.w, x):
            total = total + wi * xi
        return total.tanh()

    def parameters(self):
        return [*self.w, self.b]


class Layer(Module):
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        out = [neuron(x) for neuron in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        params = []
        for neuron in self.neurons:
            params.extend(neuron.parameters())
        return params


class MLP(Module):
    def __init__(self, nin, nouts):
        sizes = [nin, *nouts]
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


def mse(preds, targets):
    return sum(((p - t) ** 2 for p, t in zip(preds, targets)), Value(0.0))


def train(model, xs, ys, steps=20, lr=0.05):
    history = []
    for _ in range(steps):
        loss = mse([model(x) for x in xs], ys)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        history.append(loss.data)
    return history
