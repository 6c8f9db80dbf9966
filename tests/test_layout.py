"""The grader package's layout: its modules import each other in one direction, each class is declared in one
module, and the contract's names are listed in grader/contract.py alone (docs/architecture.md)."""
from __future__ import annotations

import ast
from pathlib import Path

from grader import contract

PACKAGE_DIR = Path(contract.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def module_level(tree: ast.Module):
    """Every node that runs when the module is imported: its body, with the branches of `if` and `try`, but
    not the bodies of functions (an import inside a function runs when it is called, after every module
    has loaded)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, path: Path) -> set[str]:
    """The grader modules that `name` imports at module level: `from grader.a import b` imports grader.a,
    and grader.a.b too when that is a module."""
    found = set()
    for node in module_level(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {module for module in found if module in MODULES and module != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One import path around each cycle of `graph`, found by depth-first search."""
    found, done, path = [], set(), []

    def visit(module: str) -> None:
        path.append(module)
        for imported in sorted(graph[module]):
            if imported in path:
                found.append([*path[path.index(imported):], imported])
            elif imported not in done:
                visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    return found


def test_no_grader_module_imports_another_that_imports_it_back():
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    assert cycles(graph) == [], "module-level import cycles (move what both need where it belongs):\n" + "\n".join(
        " → ".join(cycle) for cycle in cycles(graph))


def test_the_cycle_finder_sees_a_cycle_and_an_import_inside_a_function_is_not_one(tmp_path):
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    source = "import grader.parts\ntry:\n    from grader import protocol\nexcept ImportError:\n    pass\n" \
             "def later():\n    from grader import pipeline\n"
    (tmp_path / "probe.py").write_text(source)
    assert imported_modules("grader.probe", tmp_path / "probe.py") == {"grader.parts", "grader", "grader.protocol"}


def test_each_class_of_the_grader_is_declared_in_one_module():
    declared: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                declared.setdefault(node.name, []).append(name)
    assert {cls: where for cls, where in declared.items() if len(where) > 1} == {}


def test_the_contracts_names_are_listed_in_the_contract_alone():
    """A tuple, list or set naming every class of the network (or every file of the package) is a second copy
    of the contract: it belongs in grader/contract.py, which the loaders, the child and the authoring import.
    (Prose about each file, such as the template README's, may still name them.)"""
    whole_lists = (set(contract.NN_CLASSES), set(contract.FILES))
    copies = []
    for name, path in MODULES.items():
        if path.name == "contract.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                strings = {item.value for item in node.elts if isinstance(item, ast.Constant)}
                if any(names <= strings for names in whole_lists):
                    copies.append(f"{name}:{node.lineno}")
    assert copies == []
