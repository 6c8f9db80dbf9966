"""`python -m grader` is the same as the `micrograde` command."""
from grader.cli import main

raise SystemExit(main())
