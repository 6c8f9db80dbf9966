"""A failing expression graph drawn as an SVG picture, by our own code (no Graphviz): leaves on the left,
each operation one column right of its deepest input, every box showing the student's `data` and `grad`
next to the expected ones, and the node where the values first go wrong outlined in red.

The graph is the `CheckResult.graph` dict made by `grader.judge.ops.graph_picture`: `{"leaves": [floats],
"nodes": [[op, operand, ...]], "first_wrong": ["leaf"|"node", i], "data", "leaf_grads", "node_grads",
"expected": {"data", "leaf_grads", "node_grads"}}`, where an operand is `{"leaf": i}`, `{"node": i}` or
`{"const": c}`. Every text is escaped: the numbers came from the student's code.
"""
from __future__ import annotations

import math
from html import escape

from grader.report.mermaid import leaf_name

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 260, 58, 40, 16, 12
WRONG, RIGHT, LINE = "#c62828", "#2e7d32", "#555"
MAX_NODES = 40  # a picture of more boxes than this helps nobody; the report's text still names the node


def picture(graph: dict) -> str:
    """The `<svg>` element for one expression graph ("" when the graph is too large or malformed)."""
    try:
        boxes, edges = _layout(graph)
    except (TypeError, ValueError, KeyError, IndexError):
        return ""
    if not boxes or len(boxes) > MAX_NODES:
        return ""
    width = max(x for x, _ in boxes.values()) + BOX_W + 2 * MARGIN
    height = max(y for _, y in boxes.values()) + BOX_H + 2 * MARGIN
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="micrograde-graph" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">'),
           ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
            f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{LINE}"/></marker></defs>')]
    for source, target in edges:
        (x1, y1), (x2, y2) = boxes[source], boxes[target]
        out.append(f'<line x1="{x1 + BOX_W}" y1="{y1 + BOX_H / 2}" x2="{x2}" y2="{y2 + BOX_H / 2}" '
                   f'stroke="{LINE}" marker-end="url(#arrow)"/>')
    wrong = _first_wrong(graph)
    for ref, (x, y) in boxes.items():
        out.append(_box(ref, x, y, _rows(graph, ref), ref == wrong))
    out.append("</svg>")
    return "\n".join(out)


def _layout(graph: dict) -> tuple[dict[tuple[str, int], tuple[int, int]], list[tuple[tuple, tuple]]]:
    """Top-left corner of every box, by ("leaf"|"const"|"node", i), and the edges between boxes."""
    leaves, nodes = list(graph.get("leaves") or []), list(graph.get("nodes") or [])
    column: dict[tuple[str, int], int] = {("leaf", i): 0 for i in range(len(leaves))}
    edges, consts = [], 0
    for i, node in enumerate(nodes):
        inputs = []
        for operand in node[1:]:
            if "leaf" in operand:
                inputs.append(("leaf", int(operand["leaf"])))
            elif "node" in operand and int(operand["node"]) < i:
                inputs.append(("node", int(operand["node"])))
            elif "const" in operand:
                inputs.append(("const", consts))
                column[("const", consts)] = 0
                consts += 1
        column[("node", i)] = 1 + max((column[ref] for ref in inputs), default=0)
        edges += [(ref, ("node", i)) for ref in inputs]
    rows: dict[int, int] = {}
    boxes = {}
    for ref, col in column.items():
        row = rows.get(col, 0)
        rows[col] = row + 1
        boxes[ref] = (MARGIN + col * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
    return boxes, edges


def _rows(graph: dict, ref: tuple[str, int]) -> list[tuple[str, bool]]:
    """The lines of one box, each with whether it shows a value that differs from the expected one."""
    kind, i = ref
    expected = graph.get("expected") or {}
    if kind == "const":
        constants = [op["const"] for node in graph.get("nodes") or [] for op in node[1:] if "const" in op]
        return [(f"constant {_number(constants[i])}", False)]
    if kind == "leaf":
        title = f"{leaf_name(i)} = {_number(graph['leaves'][i])}"
        return [(title, False), _compare("grad", graph.get("leaf_grads"), expected.get("leaf_grads"), i)]
    title = f"node {i + 1}: {graph['nodes'][i][0]}"
    return [(title, False), _compare("data", graph.get("data"), expected.get("data"), i),
            _compare("grad", graph.get("node_grads"), expected.get("node_grads"), i)]


def _compare(name: str, got: list | None, want: list | None, i: int) -> tuple[str, bool]:
    have = got[i] if isinstance(got, list) and i < len(got) else None
    should = want[i] if isinstance(want, list) and i < len(want) else None
    if should is None:
        return f"{name} {_number(have)}", False
    if _same(have, should):
        return f"{name} {_number(have)} ✓", False
    return f"{name} {_number(have)}, expected {_number(should)}", True


def _box(ref: tuple[str, int], x: int, y: int, rows: list[tuple[str, bool]], wrong: bool) -> str:
    stroke, width = (WRONG, 3) if wrong else (LINE, 1)
    fill = "#ffebee" if wrong else ("#f5f5f5" if ref[0] != "node" else "#ffffff")
    parts = [f'<g class="{"first-wrong" if wrong else "node"}">',
             (f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="{stroke}" '
              f'stroke-width="{width}"/>')]
    for line, (text, differs) in enumerate(rows):
        color = WRONG if differs else ("#000" if line == 0 else RIGHT if text.endswith("✓") else "#333")
        weight = ' font-weight="bold"' if line == 0 else ""
        parts.append(f'<text x="{x + 8}" y="{y + 16 + 16 * line}" fill="{color}"{weight}>{escape(text[:40])}</text>')
    if wrong:
        parts.append(f'<text x="{x + BOX_W - 8}" y="{y + 16}" fill="{WRONG}" text-anchor="end">first wrong</text>')
    parts.append("</g>")
    return "".join(parts)


def _first_wrong(graph: dict) -> tuple[str, int] | None:
    first = graph.get("first_wrong")
    if isinstance(first, (list, tuple)) and len(first) == 2 and first[0] in ("leaf", "node"):
        return str(first[0]), int(first[1])
    return None


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "none" if value is None else str(value)
