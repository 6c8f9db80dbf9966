"""Red team: at import, make a chain of 1 500 nested folders inside the staged copy (each entered by a
relative path, so no path is ever too long), with a file at the bottom, for the grader to walk and remove."""
import os

from micrograd.engine import Value

__all__ = ["Value"]

DEPTH = 1500


def _chain():
    top = os.open(".", os.O_RDONLY)
    try:
        os.mkdir("micrograde-redteam-{run}-deep_folders")
        os.chdir("micrograde-redteam-{run}-deep_folders")
        for _ in range(DEPTH):
            os.mkdir("d")
            os.chdir("d")
        with open("bottom.txt", "w") as handle:
            handle.write("x")
    except OSError:
        pass
    finally:
        os.fchdir(top)
        os.close(top)


_chain()
