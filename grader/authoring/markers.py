"""Solution regions in reference/: the code a student writes, wrapped in markers that name its task.

A region looks like this (any indentation; the instruction is the rest of the BEGIN line):

    ### BEGIN SOLUTION add: d(a+b)/da = 1 and d(a+b)/db = 1; multiply by out.grad and accumulate.
    self.grad += 1.0 * out.grad
    other.grad += 1.0 * out.grad
    ### END SOLUTION

The task id is the same id as the assignment's part, its checks and its line in the report. A stub keeps
the region's indentation and names the task twice: in a TODO comment a student can grep for, and in the
NotImplementedError the grader reports when the task is still undone.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from grader.assignment import PART_IDS

BEGIN_TOKEN = "### BEGIN SOLUTION"
END_TOKEN = "### END SOLUTION"
_BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION (?P<part_id>[A-Za-z_]\w*): (?P<instruction>\S.*?)\s*$")
_END = re.compile(r"^(?P<indent>[ \t]*)### END SOLUTION\s*$")


class AuthoringError(ValueError):
    """Reference or assignment text the generators cannot use; the message starts with `source:line:`."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}" if line is not None else f"{source}: {message}")
        self.source = source
        self.line = line


@dataclass(frozen=True)
class Region:
    """One solution region. `begin` and `end` are the 1-based lines of its BEGIN and END markers."""

    part_id: str
    instruction: str
    begin: int
    end: int
    indent: str

    def stub(self, newline: str = "\n") -> str:
        """The lines that replace the region in the student's copy."""
        message = f"Task {self.part_id}: {self.instruction}".replace("\\", "\\\\").replace('"', '\\"')
        return (
            f"{self.indent}# TODO({self.part_id}): {self.instruction}{newline}"
            f'{self.indent}raise NotImplementedError("{message}"){newline}'
        )


def parse_regions(text: str, source: str = "<text>", known_ids: Iterable[str] = PART_IDS) -> list[Region]:
    """Every solution region of `text` in source order.

    Raises AuthoringError for a region left open, a region inside another, an END without a BEGIN, a
    marker line that does not follow the format, an id that is not a known task, or an id used twice.
    """
    known = tuple(known_ids)
    regions: list[Region] = []
    open_match: re.Match[str] | None = None
    open_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if BEGIN_TOKEN in line:
            match = _BEGIN.match(line)
            if match is None:
                raise AuthoringError(source, number, f"malformed marker; write `{BEGIN_TOKEN} <task id>: <instruction>`")
            if open_match is not None:
                raise AuthoringError(
                    source, number,
                    f"region {match['part_id']!r} starts inside region {open_match['part_id']!r} "
                    f"opened at line {open_line}; regions cannot nest",
                )
            part_id = match["part_id"]
            if part_id not in known:
                raise AuthoringError(source, number, f"unknown task id {part_id!r}; known: {', '.join(known)}")
            if any(region.part_id == part_id for region in regions):
                raise AuthoringError(source, number, f"task id {part_id!r} already has a region in this file")
            open_match, open_line = match, number
        elif END_TOKEN in line:
            if _END.match(line) is None:
                raise AuthoringError(source, number, f"malformed marker; write `{END_TOKEN}` alone on its line")
            if open_match is None:
                raise AuthoringError(source, number, f"`{END_TOKEN}` without a region to close")
            regions.append(Region(open_match["part_id"], open_match["instruction"], open_line, number,
                                  open_match["indent"]))
            open_match = None
    if open_match is not None:
        raise AuthoringError(source, open_line, f"region {open_match['part_id']!r} is never closed")
    return regions


def stub_regions(
    text: str, stubbed_ids: Iterable[str], source: str = "<text>", known_ids: Iterable[str] = PART_IDS
) -> str:
    """`text` with each stubbed region replaced by its stub and every other region's markers dropped.

    Ids in `stubbed_ids` that have no region in this text are ignored, so one stub list serves every file
    of a package. The result depends only on the arguments, and keeps the text's line endings.
    """
    stubbed = set(stubbed_ids)
    regions = parse_regions(text, source, known_ids)
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    position = 0
    for region in regions:
        out.extend(lines[position:region.begin - 1])
        if region.part_id in stubbed:
            marker = lines[region.begin - 1]
            newline = marker[len(marker.rstrip("\r\n")):] or "\n"
            out.append(region.stub(newline))
        else:
            out.extend(lines[region.begin:region.end - 1])
        position = region.end
    out.extend(lines[position:])
    return "".join(out)


def strip_markers(text: str, source: str = "<text>", known_ids: Iterable[str] = PART_IDS) -> str:
    """`text` with every region's code kept and its marker lines dropped: the solution as students see it later."""
    return stub_regions(text, (), source, known_ids)
