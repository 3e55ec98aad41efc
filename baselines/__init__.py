"""Competitor methods to residual Q-learning, one module each; installed as rqlbench.baselines."""
