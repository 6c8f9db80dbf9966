"""micrograd -- Frank"""
from micrograd.engine import Value
