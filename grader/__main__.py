"""`python -m grader` is the same as the `micrograde` command."""
from grader.cli import entry

raise SystemExit(entry())
