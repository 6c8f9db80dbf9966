"""Builds of the grader for others to install; each needs the instructor's checkout (reference/ included)."""
