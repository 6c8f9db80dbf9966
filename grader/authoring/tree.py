"""Generated files as a mapping from a path (relative, with forward slashes) to its exact text.

Generators only build that mapping; comparing it with the disk (`--check`) and writing it are done
here once, byte for byte, so "up to date" means the same thing for every generator.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

GeneratedTree = dict[str, str]


def leftovers(tree: GeneratedTree, root: Path, owned: Iterable[str] = ()) -> list[str]:
    """Files under `root` matching an `owned` glob that `tree` no longer generates, sorted.

    A generator owns only what its globs say, so files other work adds beside its output (a CI workflow
    in the template's .github/, say) are never reported or removed.
    """
    found = {path.relative_to(root).as_posix() for pattern in owned for path in root.glob(pattern) if path.is_file()}
    return sorted(found - tree.keys())


def out_of_date(tree: GeneratedTree, root: Path, owned: Iterable[str] = ()) -> list[str]:
    """The paths whose file under `root` is missing, differs by any byte, or is an owned leftover; sorted."""
    stale = [
        relative for relative, text in tree.items()
        if not (root / relative).is_file() or (root / relative).read_bytes() != text.encode("utf-8")
    ]
    return sorted(stale + leftovers(tree, root, owned))


def write_tree(tree: GeneratedTree, root: Path, owned: Iterable[str] = ()) -> list[str]:
    """Bring `root` up to date with `tree` and return the paths written or removed; nothing else is touched."""
    gone = set(leftovers(tree, root, owned))
    changed = out_of_date(tree, root, owned)
    for relative in changed:
        path = root / relative
        if relative in gone:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tree[relative].encode("utf-8"))
    return changed
