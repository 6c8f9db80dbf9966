"""micrograde in a notebook: `import micrograde; micrograde.check()` grades the cells run so far.

    micrograde.check()                # every task
    micrograde.check("tanh")          # one task, or several: micrograde.check("add", "mul")

The grader itself is imported on the first call, so `import micrograde` costs nothing in a cell.
"""
from __future__ import annotations

__all__ = ["check"]


def check(*parts: str, assignment: str = "micrograd"):
    """Grade the code of this notebook's executed cells, as `micrograde check` grades the saved notebook,
    and return the report, a `micrograde.notebook.Report`: shown once as the cell's output (HTML in Jupyter
    and Colab, plain text elsewhere), with `passed`, `score`, `max_score`, `parts`, `findings` and
    `to_json()` to read it from code (docs/notebook-api.md). Nothing is printed while it grades."""
    from micrograde.notebook import check as check_cells

    return check_cells(*parts, assignment=assignment)
