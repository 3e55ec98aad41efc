import sys

from rqlbench.cli import main

sys.exit(main())
