"""Judging in the grader's own process: plain numbers from the child against the reference's."""
