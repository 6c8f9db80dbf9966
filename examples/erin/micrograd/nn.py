"""A tiny neural-network library on top of `Value`: neurons, layers and a multi-layer perceptron."""
import random

from micrograd.engine import Value


class Module:
    """Anything with parameters: the gradients of all of them can be reset at once."""

    def zero_grad(self):
        # TODO(zero_grad): set the gradient of every parameter back to 0 (leave .data alone).
        raise NotImplementedError("Task zero_grad: set the gradient of every parameter back to 0 (leave .data alone).")

    def parameters(self):
        return []


class Neuron(Module):
    """tanh(w · x + b) with one weight per input."""

    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    """`nout` independent neurons that all read the same inputs."""

    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP(Module):
    """Layers in sequence: MLP(3, [4, 4, 1]) maps 3 inputs through two hidden layers of 4 to 1 output."""

    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]
