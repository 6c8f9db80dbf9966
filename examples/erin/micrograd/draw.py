"""Draw the graph behind a `Value`, like the lecture's `draw_dot`, as Graphviz DOT text.

Each value is a record "label | data | grad" and each operation an ellipse feeding the value it made.
The DOT text needs nothing installed; turning it into a picture needs Graphviz's `dot` program.
"""
import shutil
import subprocess
from pathlib import Path

from micrograd.engine import Value


def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """Every value `root` was built from (root first) and every (child, parent) edge between them."""
    nodes, edges = [], []
    seen = {id(root)}
    stack = [root]
    # Walk with a stack rather than recursion, so a graph deeper than Python's recursion limit draws too.
    while stack:
        v = stack.pop()
        nodes.append(v)
        for child in v._prev:
            edges.append((child, v))
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return nodes, edges


def _escape(text, record=False):
    special = '\\"{}|<>' if record else '\\"'
    return "".join("\\" + c if c in special else c for c in str(text))


def draw_dot(root: Value, rankdir: str = "LR") -> str:
    """The graph of `root` as DOT text; rankdir "LR" reads left to right, "TB" top to bottom."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT, not {rankdir!r}")
    nodes, edges = trace(root)
    name = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    lines = ["digraph {", f"  rankdir={rankdir};"]
    for n in nodes:
        label = f"{{ {_escape(n.label, record=True)} | data {n.data:.4f} | grad {n.grad:.4f} }}"
        lines.append(f'  {name[id(n)]} [label="{label}", shape=record];')
        if n._op:
            # The operation gets a node of its own, so the picture shows how each value was made.
            lines.append(f'  {name[id(n)]}_op [label="{_escape(n._op)}", shape=ellipse];')
            lines.append(f"  {name[id(n)]}_op -> {name[id(n)]};")
    for child, parent in edges:
        lines.append(f"  {name[id(child)]} -> {name[id(parent)]}_op;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(root: Value, path: str | Path, rankdir: str = "LR") -> Path:
    """Write the picture of `root`'s graph to `path`, in the format its suffix names (.svg, .png, .pdf)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"{path}: give the file a suffix such as .svg or .png to choose the format")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "rendering needs Graphviz's `dot` program, which is not on PATH: install Graphviz "
            "(apt install graphviz, brew install graphviz, or https://graphviz.org/download/); "
            "draw_dot(root) still gives the DOT text without it"
        )
    subprocess.run([dot, f"-T{fmt}", "-o", str(path)], input=draw_dot(root, rankdir), text=True, check=True)
    return path
