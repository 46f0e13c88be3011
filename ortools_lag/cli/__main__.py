"""``python -m ortools_lag.cli``: the same as the ``ortools-lag`` command."""

import sys

from ortools_lag.cli.main import main

sys.exit(main())
