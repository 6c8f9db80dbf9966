"""Red team: 200 MB to stdout and 200 MB to stderr at import, with terminal escapes, then carry on."""
import os

from micrograd.engine import Value

__all__ = ["Value"]

FLOOD_BYTES = 200 * 10**6
LINE = b"\x1b[2J\x1b[H\x1b]0;micrograde-redteam-output_flood\x07\rflood " + b"#" * 960 + b"\n"
BLOCK = LINE * 1024

for _fd in (1, 2):
    _written = 0
    while _written < FLOOD_BYTES:
        try:
            _written += os.write(_fd, BLOCK)
        except OSError:  # e.g. the file-size limit
            break
