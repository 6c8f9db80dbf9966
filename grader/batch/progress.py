"""Progress on standard error: a rich bar with ETA on a terminal, otherwise a plain line about once a
second (CI logs stay short and readable)."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str = "grading"):
        self.total, self.done, self.label = total, 0, label
        self.start = self.last = time.monotonic()
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
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{self.label} {student[:30]}")
            return
        now = time.monotonic()
        if now - self.last >= 1.0 or self.done == self.total:
            self.last = now
            elapsed = now - self.start
            eta = elapsed / self.done * (self.total - self.done)
            print(f"{self.label}: {self.done}/{self.total} in {elapsed:.1f} s, ETA {eta:.0f} s", file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
