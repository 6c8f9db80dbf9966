"""The sandbox's time limits as command-line options, shared by `check` and `grade`."""
from __future__ import annotations

import argparse
import os

from grader.cli import UsageError
from grader.sandbox import isolation
from grader.sandbox.process import JobLimits

DEFAULTS = JobLimits()


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--probe-seconds", type=float, default=DEFAULTS.probe_seconds,
                        help=f"wall-clock limit of one probe of student code (default {DEFAULTS.probe_seconds:g})")
    parser.add_argument("--time-limit", type=float, default=DEFAULTS.total_seconds,
                        help="wall-clock limit of one submission, all its probes together, in seconds "
                             f"(default {DEFAULTS.total_seconds:g})")
    parser.add_argument("--unsafe-sandbox", action="store_true",
                        help="as root where no namespaces or chroot can be made, grade anyway (jobs still run as "
                             "a user of their own, but may read any file readable by all); every report says so")


def accept_unsafe_sandbox(args: argparse.Namespace) -> None:
    """--unsafe-sandbox, passed on through the environment so that every worker process sees it."""
    if getattr(args, "unsafe_sandbox", False):
        os.environ[isolation.UNSAFE_ENV] = "1"
        isolation.available.cache_clear()


def limits_from(args: argparse.Namespace) -> JobLimits:
    """The limits the options ask for; refused (one line) where student code could not be run safely."""
    if not (0 < args.probe_seconds <= args.time_limit):
        raise UsageError("--probe-seconds must be positive and at most --time-limit")
    accept_unsafe_sandbox(args)
    refused = isolation.refusal()
    if refused:
        raise UsageError(refused)
    return JobLimits(probe_seconds=args.probe_seconds, total_seconds=args.time_limit,
                  cpu_seconds=max(1, int(args.time_limit) + 1))
