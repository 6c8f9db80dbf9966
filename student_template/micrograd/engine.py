"""The autograd engine of the lecture: a scalar `Value` that remembers how it was made.

Every operation computes its result, links it to its inputs, and attaches a `_backward`
closure that pushes the output's gradient to the inputs by the chain rule.
"""
import math


class Value:
    """A scalar, the gradient of the final output with respect to it, and its origin."""

    def __init__(self, data, _children=(), _op='', label=''):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), '+')

        def _backward():
            # TODO(add): d(a+b)/da = 1 and d(a+b)/db = 1; multiply by out.grad and accumulate.
            raise NotImplementedError("Task add: d(a+b)/da = 1 and d(a+b)/db = 1; multiply by out.grad and accumulate.")
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), '*')

        def _backward():
            # TODO(mul): d(a*b)/da = b and d(a*b)/db = a; multiply by out.grad and accumulate.
            raise NotImplementedError("Task mul: d(a*b)/da = b and d(a*b)/db = a; multiply by out.grad and accumulate.")
        out._backward = _backward
        return out

    def __pow__(self, other):
        # TODO(pow): build out = self**other for a plain int/float exponent, with a _backward closure for d(x**k)/dx.
        raise NotImplementedError("Task pow: build out = self**other for a plain int/float exponent, with a _backward closure for d(x**k)/dx.")

    def exp(self):
        # TODO(exp): build out = e**self.data with a _backward closure; d(e**x)/dx is e**x itself.
        raise NotImplementedError("Task exp: build out = e**self.data with a _backward closure; d(e**x)/dx is e**x itself.")

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), 'tanh')

        def _backward():
            # TODO(tanh): d(tanh x)/dx = 1 - tanh(x)**2; multiply by out.grad and accumulate.
            raise NotImplementedError("Task tanh: d(tanh x)/dx = 1 - tanh(x)**2; multiply by out.grad and accumulate.")
        out._backward = _backward
        return out

    def relu(self):
        out = Value(0.0 if self.data < 0 else self.data, (self,), 'ReLU')

        def _backward():
            # TODO(relu): d(relu x)/dx is 1 where x > 0 and 0 elsewhere; multiply by out.grad and accumulate.
            raise NotImplementedError("Task relu: d(relu x)/dx is 1 where x > 0 and 0 elsewhere; multiply by out.grad and accumulate.")
        out._backward = _backward
        return out

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.data))
        out = Value(s, (self,), 'sigmoid')

        def _backward():
            self.grad += s * (1 - s) * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), 'log')

        def _backward():
            self.grad += (1 / self.data) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        # Build the order iteratively, so a graph deeper than Python's recursion limit works.
        topo = []
        visited = set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)

        self.grad = 1.0
        for node in reversed(topo):
            node._backward()

    def __neg__(self):  # -self
        return self * -1

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __rsub__(self, other):  # other - self
        return other + (-self)

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):  # self / other
        return self * other**-1

    def __rtruediv__(self, other):  # other / self
        return other * self**-1
