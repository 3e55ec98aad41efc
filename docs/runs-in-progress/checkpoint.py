"""Copy the finished cells of the runs named on the command line from RUNS into this directory,
compact (one line of JSON each), with their config.yaml and environment.json, for the next
session to resume from: python docs/runs-in-progress/checkpoint.py RUNS quick-parking ..."""

import json
import shutil
import sys
from pathlib import Path

if len(sys.argv) < 3:
    sys.exit(f"usage: python {sys.argv[0]} RUNS RUN_NAME...")
here = Path(__file__).resolve().parent
runs, names = Path(sys.argv[1]), sys.argv[2:]
for name in names:
    source, target = runs / name, here / name
    if not (source / "cells").is_dir():
        print(f"checkpoint: no run {source} (yet): skipped", file=sys.stderr)
        continue
    (target / "cells").mkdir(parents=True, exist_ok=True)
    for kept in ("config.yaml", "environment.json"):
        shutil.copyfile(source / kept, target / kept)
    for cell in sorted((source / "cells").glob("*.json")):
        compact = json.dumps(json.loads(cell.read_text()), separators=(",", ":")) + "\n"
        copy = target / "cells" / cell.name
        if not copy.exists() or copy.read_text() != compact:
            copy.write_text(compact)
