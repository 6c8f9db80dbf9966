"""Subcommands of `micrograde`; see grader/cli.py for the contract each module follows."""
