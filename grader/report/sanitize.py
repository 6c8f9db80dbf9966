"""Text that came from a submission is shown to people only through `clean`: no terminal control
sequences, no other control characters, no lone surrogate (which no file or terminal can encode), bounded
length."""
from __future__ import annotations

import re

from grader.protocol import SURROGATE

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-Z\\-_]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, limit: int = 2000) -> str:
    text = SURROGATE.sub("\ufffd", CONTROL.sub("", ANSI.sub("", str(text))))
    return text if len(text) <= limit else text[:limit] + "…"
