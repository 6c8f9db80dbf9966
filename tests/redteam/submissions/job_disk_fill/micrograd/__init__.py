"""Red team: at import, files of 15 MiB each (under the per-file limit) written into the staged copy until
200 MiB are written or the disk refuses; the amount written is printed."""
import os

from micrograd.engine import Value

__all__ = ["Value"]

BLOCK = b"x" * 2**20
written = 0
try:
    for number in range(13):
        with open(f"filler-{number}.bin", "wb") as filler:
            for _ in range(15):
                filler.write(BLOCK)
                filler.flush()
                written += 1
except OSError:
    pass
print(f"micrograde-redteam disk: wrote {written} MiB", flush=True)
for number in range(13):
    try:
        os.unlink(f"filler-{number}.bin")
    except OSError:
        pass
