"""`python -m micrograde check .` is the `micrograde` command, for where the command is not on PATH."""
from grader.cli import entry

raise SystemExit(entry())
