"""Walking and removing folders a job could write in, whatever it made there.

A job may leave a chain of thousands of nested folders in its staged copy. `os.walk` (before Python
3.12) and `shutil.rmtree` recurse once per level, so such a chain raises RecursionError in the grader, and
its paths soon pass PATH_MAX. Here each folder is opened relative to its parent's descriptor and the
folders still to visit are kept on a list: neither the depth nor the length of a path matters.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
DEEPEST = 32  # folders a job may leave nested in its staged copy; the loader's own go 3 deep


def _open(name: str, parent: int | None) -> int | None:
    try:
        return os.open(name, FLAGS, dir_fd=parent)
    except OSError:
        return None


def _entries(fd: int) -> list[tuple[str, bool]]:
    """(name, is a folder, not a link) of each entry of the folder open as `fd`."""
    try:
        with os.scandir(fd) as listing:
            return [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in listing]
    except OSError:
        return []


def remove_tree(path: Path) -> None:
    """Remove `path` and everything below it, as far as permissions allow; never raises."""
    top = _open(str(path), None)
    if top is None:
        with suppress(OSError):
            os.unlink(path)
        return
    _empty(top)
    with suppress(OSError):
        os.rmdir(path)


def _empty(top: int) -> None:
    """Remove everything inside the folder open as `top`, and close it. Depth first, holding one folder open
    at a time (going back up through ".."), so a chain of any depth needs neither recursion nor many fds."""
    fd, names, skipped = top, [], [set()]  # names: from `top` down to `fd`; skipped: per level, what failed
    while True:
        sub = None
        for name, is_folder in _entries(fd):
            if not is_folder:
                with suppress(OSError):
                    os.unlink(name, dir_fd=fd)
            elif sub is None and name not in skipped[-1]:
                sub = name
        if sub is not None:
            child = _open(sub, fd)
            if child is None:
                skipped[-1].add(sub)
                continue
            os.close(fd)
            fd, names, skipped = child, [*names, sub], [*skipped, set()]
            continue
        parent = _open("..", fd) if names else None
        os.close(fd)
        if parent is None:
            return
        fd, name, skipped = parent, names.pop(), skipped[:-1]
        try:
            os.rmdir(name, dir_fd=fd)
        except OSError:
            skipped[-1].add(name)


def _open_below(root: int, names: tuple[str, ...]) -> int | None:
    """The folder `root`/names..., opened one level at a time (no long path, no link followed)."""
    fd = os.dup(root)
    for name in names:
        child = _open(name, fd)
        os.close(fd)
        if child is None:
            return None
        fd = child
    return fd


def walk(root: Path, visit: Callable[[int, int], None]) -> None:
    """Call `visit(fd, depth)` for `root` and each folder below it (links not followed), without recursion
    and with two folders open at most."""
    top = _open(str(root), None)
    if top is None:
        return
    try:
        pending: list[tuple[str, ...]] = [()]
        while pending:
            names = pending.pop()
            fd = _open_below(top, names)
            if fd is None:
                continue
            try:
                visit(fd, len(names))
                pending += [(*names, name) for name, is_folder in _entries(fd) if is_folder]
            finally:
                os.close(fd)
    finally:
        os.close(top)


def prune(root: Path, deepest: int = DEEPEST) -> None:
    """Remove every folder more than `deepest` levels below `root` (what a job nested there)."""
    def cut(fd: int, depth: int) -> None:
        if depth < deepest:
            return
        for name, is_folder in _entries(fd):
            child = _open(name, fd) if is_folder else None
            if child is not None:
                _empty(child)
                with suppress(OSError):
                    os.rmdir(name, dir_fd=fd)
    walk(root, cut)


def chown_tree(root: Path, uid: int) -> None:
    """Give `root` and everything below it (links themselves, not their targets) to `uid`."""
    def give(fd: int, _depth: int) -> None:
        os.chown(fd, uid, uid)
        for name, is_folder in _entries(fd):
            if not is_folder:
                with suppress(OSError):
                    os.chown(name, uid, uid, dir_fd=fd, follow_symlinks=False)
    walk(root, give)
