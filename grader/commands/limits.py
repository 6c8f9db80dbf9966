"""The sandbox's time limits as command-line options, shared by `check` and `grade`."""
from __future__ import annotations

import argparse

from grader.cli import UsageError
from grader.sandbox.process import Limits

DEFAULTS = Limits()


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--probe-seconds", type=float, default=DEFAULTS.probe_seconds,
                        help=f"wall-clock limit of one probe of student code (default {DEFAULTS.probe_seconds:g})")
    parser.add_argument("--time-limit", type=float, default=DEFAULTS.total_seconds,
                        help="wall-clock limit of each stage of one submission, in seconds "
                             f"(default {DEFAULTS.total_seconds:g})")


def limits_from(args: argparse.Namespace) -> Limits:
    if not (0 < args.probe_seconds <= args.time_limit):
        raise UsageError("--probe-seconds must be positive and at most --time-limit")
    return Limits(probe_seconds=args.probe_seconds, total_seconds=args.time_limit,
                  cpu_seconds=max(1, int(args.time_limit) + 1))
