"""Progress on standard error: a rich bar with ETA on a terminal, otherwise a plain line about once a
second (CI logs stay short and readable).

The ETA is measured from the first finished submission on, not from the start: before it, the workers are
starting up (interpreters, sandbox servers, pytest), which the remaining submissions do not pay again, so
counting it would promise several times the real time left. Until a few more have finished, there is none.
"""
from __future__ import annotations

import sys
import time

# Submissions finished after the first result before the plain line gives an ETA.
ETA_AFTER = 3
# Results this close after the first one came with it (one worker's chunk is reported at once).
BURST = 0.05


class Progress:
    def __init__(self, total: int, label: str = "grading"):
        self.total, self.done, self.label = total, 0, label
        self.start = self.last = time.monotonic()
        self.first: tuple[float, int] | None = None  # (when, how many) the first results arrived
        self.bar = None
        if sys.stderr.isatty() and total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar
            self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                           TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True), transient=False)
            self.task = self.bar.add_task(label, total=total)
            self.bar.start()

    def advance(self, student: str) -> None:
        self.done += 1
        now = time.monotonic()
        if self.first is None:
            self.first = (now, self.done)
        elif now - self.first[0] < BURST:
            self.first = (self.first[0], self.done)  # one chunk's results arrive together: all count as first
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{self.label} {student[:30]}")
            return
        if now - self.last >= 1.0 or self.done == self.total:
            self.last = now
            print(f"{self.label}: {self.done}/{self.total} in {now - self.start:.1f} s{self.eta_text(now)}",
                  file=sys.stderr, flush=True)

    def eta_seconds(self, now: float) -> float | None:
        """Seconds left at the rate since the first result, once ETA_AFTER more have finished; else None."""
        if self.first is None or self.done >= self.total:
            return None
        since, counted = self.first
        finished = self.done - counted
        if finished < ETA_AFTER or now <= since:
            return None
        return (now - since) / finished * (self.total - self.done)

    def eta_text(self, now: float) -> str:
        if self.done >= self.total:
            return ""
        eta = self.eta_seconds(now)
        return f", ETA {eta:.0f} s" if eta is not None else ", ETA once a few more are graded"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
