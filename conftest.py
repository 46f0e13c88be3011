"""Collection rules for the doctests of the package (``--doctest-modules`` on ``ortools_lag``).

``ortools_lag.torch`` imports torch, an optional extra: without torch installed, its modules
are not collected (the tests that need torch say so with ``pytest.importorskip``).
"""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["ortools_lag/torch/*"]
