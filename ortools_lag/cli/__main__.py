"""``python -m ortools_lag.cli``: the same as the ``ortools-lag`` command."""

import sys

from ortools_lag.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
