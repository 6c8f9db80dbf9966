"""A failing expression graph drawn as a Mermaid flowchart: leaves a, b, c… feed op nodes, each box shows
its value and the student's gradient, and the node where the gradient first goes wrong is filled red.

The graph is the `CheckResult.graph` dict: `{"leaves": [floats], "nodes": [[op, operand, ...]],
"first_wrong": ["leaf"|"node", i], "data": [...], "leaf_grads": [...], "node_grads": [...]}`, where an
operand is `{"leaf": i}`, `{"node": i}` or `{"const": c}`.
"""
from __future__ import annotations

import string

from grader.report.sanitize import clean

WRONG_STYLE = "fill:#f66,stroke:#900,color:#000,stroke-width:2px"


def leaf_name(index: int) -> str:
    """a, b, …, z, then x26, x27, …: the names the case text uses for the leaves."""
    return string.ascii_lowercase[index] if index < 26 else f"x{index}"


def flowchart(graph: dict) -> str:
    """The Mermaid source (without the ``` fence) of one expression graph."""
    leaves = list(graph.get("leaves") or [])
    nodes = list(graph.get("nodes") or [])
    data = list(graph.get("data") or [])
    leaf_grads = list(graph.get("leaf_grads") or [])
    node_grads = list(graph.get("node_grads") or [])
    lines = ["flowchart LR"]
    for i, value in enumerate(leaves):
        label = f"{leaf_name(i)} = {_number(value)}"
        if i < len(leaf_grads):
            label += f"<br/>grad {_number(leaf_grads[i])}"
        lines.append(f'    L{i}["{_label(label)}"]')
    edges, consts = [], 0
    for i, node in enumerate(nodes):
        op, operands = (node[0], node[1:]) if node else ("?", [])
        label = str(op)
        if i < len(data):
            label += f"<br/>data {_number(data[i])}"
        if i < len(node_grads):
            label += f"<br/>grad {_number(node_grads[i])}"
        lines.append(f'    N{i}(["{_label(label)}"])')
        for operand in operands:
            if not isinstance(operand, dict):
                continue
            if "leaf" in operand:
                edges.append(f"    L{int(operand['leaf'])} --> N{i}")
            elif "node" in operand:
                edges.append(f"    N{int(operand['node'])} --> N{i}")
            elif "const" in operand:
                lines.append(f'    K{consts}["{_label(_number(operand["const"]))}"]')
                edges.append(f"    K{consts} --> N{i}")
                consts += 1
    lines.extend(edges)
    wrong = _node_id(graph.get("first_wrong"))
    if wrong is not None:
        lines.append(f"    classDef wrong {WRONG_STYLE}")
        lines.append(f"    class {wrong} wrong")
    return "\n".join(lines)


def fenced(graph: dict) -> str:
    """The flowchart inside a ```mermaid block, ready to paste into GitHub-flavoured Markdown."""
    return f"```mermaid\n{flowchart(graph)}\n```"


def _node_id(first_wrong: object) -> str | None:
    if not isinstance(first_wrong, (list, tuple)) or len(first_wrong) != 2:
        return None
    kind, index = first_wrong
    prefix = {"leaf": "L", "node": "N"}.get(kind)
    return f"{prefix}{int(index)}" if prefix is not None else None


def _number(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _label(text: str) -> str:
    # Inside a quoted Mermaid label only the quote itself and the fence's backticks could break out.
    text = clean(text, limit=80).replace("\n", " ")
    return text.replace('"', "#quot;").replace("`", "#96;")
