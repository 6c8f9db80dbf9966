"""Fixtures shared by several test files."""
from __future__ import annotations

import importlib
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import corpus_tools
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


class CorpusProbes:
    """The corpus's submissions probed once a session with the grading assignment (`load_assignment()`), for
    the test files that judge the same ones: the same submission under the same name, with the same kind of
    inputs, is the same probe however many files judge it (its inputs depend on nothing else).

    A job is (name, kind, entry): kind "mutant", "variant", "shape" or "shape_mutant" with the entry's name
    in the corpus, or "path" with a submission's path. Each entry is built once, in a folder of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[tuple[str, str], Path] = {}
        self.probed: dict[tuple[str, str, str, bool], object] = {}

    def path(self, kind: str, entry: str) -> Path:
        if (kind, entry) not in self.built:
            self.built[kind, entry] = self._build(kind, entry)
        return self.built[kind, entry]

    def _build(self, kind: str, entry: str) -> Path:
        if kind == "path":
            return Path(entry)
        folder = self.root / f"{kind}-{entry}"
        if kind == "mutant":
            return corpus_tools.build_mutant(_named(corpus_tools.load_mutants(), entry), folder)
        if kind == "variant":
            return corpus_tools.build_variant(_named(corpus_tools.load_variants(), entry), folder)
        if kind == "shape":
            return corpus_tools.CORPUS_DIR / _named(corpus_tools.load_shapes(), entry)["submission"]
        if kind == "shape_mutant":
            return corpus_tools.build_shape_mutant(_named(corpus_tools.load_shape_mutants(), entry), folder)
        raise ValueError(f"unknown kind of corpus job: {kind}")

    def probe(self, jobs: list[tuple[str, str, str]], public_inputs: bool = False, workers: int = 4) -> list:
        """The probed submissions (`grader.pipeline.Probed`) of `jobs`, in their order; those not yet probed
        this session are probed `workers` at a time."""
        from grader.assignment import load_assignment
        from grader.pipeline import probe_submission

        assignment = load_assignment()
        keys = [(name, kind, entry, public_inputs) for name, kind, entry in jobs]
        missing = list(dict.fromkeys(key for key in keys if key not in self.probed))
        paths = [self.path(kind, entry) for _, kind, entry, _ in missing]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = pool.map(lambda item: probe_submission(item[1], name=item[0][0], assignment=assignment,
                                                           public_inputs=public_inputs), zip(missing, paths))
            self.probed.update(zip(missing, found))
        return [self.probed[key] for key in keys]


def _named(entries: list[dict], name: str) -> dict:
    (entry,) = [entry for entry in entries if entry["name"] == name]
    return entry


@pytest.fixture(scope="session")
def corpus_probes(tmp_path_factory) -> CorpusProbes:
    """The corpus's submissions, each probed once however many test files judge it."""
    return CorpusProbes(tmp_path_factory.mktemp("corpus-probes"))
