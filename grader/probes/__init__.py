"""Probes: the expressions every submission is asked to evaluate, and how to evaluate them.

`plan` decides *what* to ask (fixed inputs, random graphs from a fixed seed); `runners` knows *how* to ask
an engine and turns every answer into plain numbers. `runners` runs both in the sandboxed child (on the
student's engine) and in the grader (on the reference), so both sides are measured the same way.
"""
