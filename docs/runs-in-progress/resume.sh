#!/usr/bin/env bash
# Resume the evidence runs of TASK... (tuning, then the five-seed main run) from the cells kept
# here, in RUNS (default runs/), starting no cell that would end after STOP_BY (HH:MM).
# Run it with the rqlbench of a fixed checkout on PATH (a git worktree with its own editable
# venv: edits to the working checkout never reach a running cell). Exit 75: stopped at STOP_BY.
# DRY_RUN=1 prints the cells left and the time left instead.
#   STOP_BY=17:30 RUNS=/work/runs docs/runs-in-progress/resume.sh cartpole parking
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runs="${RUNS:-runs}"
workers="${WORKERS:-2}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1  # one thread per worker: the cells are the parallelism
# STOP_BY fixed once as today's date-time: a later command must not read a passed HH:MM as
# tomorrow's (so a STOP_BY already passed is refused)
options=(${STOP_BY:+--stop-by "$(date -d "$STOP_BY" +%Y-%m-%dT%H:%M)"} ${DRY_RUN:+--dry-run})
for task in "$@"; do
  # a finished tuning is committed under docs/results/tuning/ with its configs/tuned/TASK.yaml
  tuning="$here/../results/tuning/$task"
  if [[ ! -d "$tuning" ]]; then
    tuning="$runs/tune-quick-$task"
    if [[ -d "$here/tune-quick-$task" && ! -d "$tuning" ]]; then
      mkdir -p "$runs" && cp -r "$here/tune-quick-$task" "$tuning"
    fi
    rqlbench tune "$task" --seeds 1 --out "$tuning" --workers "$workers" "${options[@]}"
  fi
  if [[ -d "$here/quick-$task" && ! -d "$runs/quick-$task" ]]; then
    mkdir -p "$runs" && cp -r "$here/quick-$task" "$runs/quick-$task"
  fi
  # a fresh main run's cells are timed from the tuning's (same steps) until its own finish
  rqlbench run "$task" --seeds 5 --out "$runs/quick-$task" --workers "$workers" "${options[@]}" \
    --timings-from "$tuning"
done
