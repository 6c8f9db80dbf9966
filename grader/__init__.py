"""micrograde: grades students' micrograd engines and explains what is wrong."""

__version__ = "0.1.0"
