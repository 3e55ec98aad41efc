"""Speed benchmarks (pytest-benchmark) and their history tools; see README, "Speed"."""
