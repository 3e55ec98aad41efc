"""One intra-op thread per test process: `pytest -n auto` already runs one process per core, and
torch's default thread pool on top of it oversubscribes the cores (small networks then spend most
of their time waiting on threads: one SAC test took 4x longer). Set before torch is imported, so
subprocesses (CLI runs, Ray workers) inherit it too."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
