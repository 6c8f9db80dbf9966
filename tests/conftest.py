"""Fixtures shared by several test files."""
from __future__ import annotations

import importlib
import sys
from types import SimpleNamespace

import pytest

from grader.paths import REFERENCE_DIR


@pytest.fixture(scope="session")
def reference() -> SimpleNamespace:
    """The reference solution imported as the package `micrograd`, with its public names as attributes."""
    path = str(REFERENCE_DIR)
    if path not in sys.path:
        sys.path.insert(0, path)
    # A `micrograd` imported from anywhere else (a student's copy, the template) must not stand in for it.
    for name in [name for name in sys.modules if name == "micrograd" or name.startswith("micrograd.")]:
        if not str(getattr(sys.modules[name], "__file__", "") or "").startswith(path):
            del sys.modules[name]
    engine, nn, train, draw = (importlib.import_module(f"micrograd.{name}") for name in ("engine", "nn", "train", "draw"))
    return SimpleNamespace(
        Value=engine.Value, Module=nn.Module, Neuron=nn.Neuron, Layer=nn.Layer, MLP=nn.MLP, train=train.train,
        trace=draw.trace, draw_dot=draw.draw_dot, render=draw.render,
    )
