"""Start-up of ``ortools-lag solve``: a HiGHS solve of a YAML file imports only what it needs.

Timing is benchmarks/bench_cli_startup.py's job (a ratio to ``import numpy`` on a quiet
machine); these tests pin the cause, in a fresh interpreter each: which packages get loaded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
REDDY = ROOT / "problems" / "model" / "reddy_mikks.yaml"

#: packages no HiGHS solve of a model file needs (plots, graphs, other backends, the progress
#: bar, scipy's solvers) and the heavy sub-packages scipy.sparse does not load by itself
NOT_NEEDED = (
    "matplotlib",
    "networkx",
    "cvxpy",
    "pyomo",
    "torch",
    "rich",
    "pandas",
    "scipy.optimize",
    "scipy.sparse.linalg",
    "scipy.sparse.csgraph",
    "ortools_lag.plot",
    "ortools_lag.report",
    "ortools_lag.algorithms",
    "ortools_lag.solvers.dual",
    "ortools_lag.solvers.pdhg",
    "ortools_lag.solvers.backends.cvxpy",
)


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    res = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert res.returncode == 0, res.stderr
    return set(res.stdout.split())


def test_importing_the_cli_loads_no_numerics() -> None:
    loaded = _loaded_after("import ortools_lag.cli.main")
    heavy = {"numpy", "scipy", "pydantic", "yaml", "highspy", *NOT_NEEDED}
    assert not heavy & loaded


def test_a_highs_solve_loads_only_what_it_needs() -> None:
    code = (
        "from ortools_lag.cli.main import main\n"
        f"assert main(['solve', {str(REDDY)!r}, '--solver', 'highs', '-q']) == 0\n"
    )
    loaded = _loaded_after(code)
    assert {"numpy", "scipy.sparse", "pydantic", "yaml", "highspy"} <= loaded  # the floor
    assert not set(NOT_NEEDED) & loaded


@pytest.mark.parametrize(("solver", "module"), [("pdhg", "ortools_lag.solvers.pdhg.solver")])
def test_the_chosen_solver_alone_is_imported(solver: str, module: str) -> None:
    code = (
        "from ortools_lag.cli.main import main\n"
        f"assert main(['solve', {str(REDDY)!r}, '--solver', {solver!r}, '-q']) == 0\n"
    )
    loaded = _loaded_after(code)
    assert module in loaded
    others = {"ortools_lag.solvers.backends.highs", "ortools_lag.solvers.backends.cvxpy"}
    assert not others & loaded and not {"cvxpy", "torch", "rich"} & loaded
