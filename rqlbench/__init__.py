"""rqlbench: residual Q-learning for policy customization, and a benchmark suite for it."""

__version__ = "0.1.0"
