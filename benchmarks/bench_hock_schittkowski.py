"""The Hock-Schittkowski bank through every available NLP solver, against the published optima.

The bank is ``tests/hock_schittkowski.py`` (problems of W. Hock and K. Schittkowski, *Test
Examples for Nonlinear Programming Codes*, LNEMS 187, 1981). Each problem is solved from its
published start ``x0`` (where the solver takes a start) by each configuration whose solver is
registered and available and takes the model:

- ``ipopt`` with exact Hessians, and ``ipopt-lbfgs`` (``hessian_approximation="limited-memory"``,
  when the backend takes that option);
- ``scipy-slsqp`` and ``scipy-trust-constr``;
- ``alm`` (the augmented Lagrangian, KKT tolerance 1e-8) and ``pyomo`` (HiGHS for QPs with linear
  rows, Ipopt for the rest where an ``ipopt`` executable is on PATH).

One row per run: status, certified (``kkt.certified``), the relative objective error against
the published value (absolute where it is 0), iterations and seconds. Then per configuration: the
runs *certified at the published optimum* (status ``optimal``/``locally_optimal``, a certified
KKT point, objective error <= 1e-6), as a count and a percentage of the runs, and the median
iterations. ``--quick`` (CI, well under 60 s) runs the bank's fast subset with a 10 s cap per run.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bank lives in tests/

from ortools_lag import Solution, Status, solve
from ortools_lag.errors import OrtoolsLagError
from ortools_lag.problem import as_problem
from ortools_lag.solvers import registry
from tests.hock_schittkowski import FAST, PROBLEMS, HSProblem

#: configuration name -> (registered solver, its options besides x0 and time_limit)
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "ipopt": ("ipopt", {}),
    "ipopt-lbfgs": ("ipopt", {"hessian_approximation": "limited-memory"}),
    "scipy-slsqp": ("scipy", {"method": "slsqp"}),
    "scipy-trust-constr": ("scipy", {"method": "trust-constr"}),
    "alm": ("alm", {"kkt_tolerance": 1e-8}),
    "pyomo": ("pyomo", {}),
}
#: HiGHS regularises QPs by 1e-7 by default: too coarse for the 1e-6 certificate on hs118
PYOMO_HIGHS_OPTIONS: dict[str, Any] = {"solver_options": {"qp_regularization_value": 1e-12}}
TOL = 1e-6


@dataclass
class Run:
    problem: str
    config: str
    status: str
    certified: bool
    error: float
    iterations: int
    seconds: float

    @property
    def at_optimum(self) -> bool:
        ok = self.status in (Status.OPTIMAL.value, Status.LOCALLY_OPTIMAL.value)
        return ok and self.certified and self.error <= TOL


def usable(config: str) -> str | None:
    """``None`` when the configuration can run here, else why not."""
    solver, opts = CONFIGS[config]
    if solver not in registry.names():
        return f"{solver!r} is not registered"
    try:
        impl = registry.get(solver)
        reason = impl.available()
    except OrtoolsLagError as exc:
        return str(exc)
    if reason is not None:
        return reason
    missing = set(opts) - set(impl.Options.model_fields)
    return f"{solver!r} takes no option {sorted(missing)}" if missing else None


def takes(config: str, hs: HSProblem) -> bool:
    """Whether the solver takes this model (its own ``check``; Pyomo's Ipopt path needs an
    ``ipopt`` executable)."""
    solver = CONFIGS[config][0]
    impl = registry.get(solver)
    if impl.check(as_problem(hs.model)) is not None:
        return False
    if solver == "pyomo":
        m = hs.model
        from ortools_lag.solvers.backends.pyomo import ipopt_available

        return (m.has_linear_constraints and m.objective.degree <= 2) or ipopt_available()
    return True


def run_one(config: str, hs: HSProblem, time_limit: float) -> Run:
    solver, extra = CONFIGS[config]
    opts: dict[str, Any] = {"time_limit": time_limit, **extra}
    m = hs.model
    if solver == "pyomo" and m.has_linear_constraints and m.objective.degree <= 2:
        opts.update(PYOMO_HIGHS_OPTIONS)
    if "x0" in registry.get(solver).Options.model_fields:
        opts["x0"] = {"x": hs.x0}
    t0 = time.perf_counter()
    try:
        sol: Solution = solve(hs.model, solver, **opts)
    except OrtoolsLagError as exc:  # a refusal or a failure of the backend: a missed run
        logging.getLogger(__name__).warning("%s on %s: %s", hs.name, config, exc)
        return Run(hs.name, config, "error", False, float("inf"), 0, time.perf_counter() - t0)
    secs = time.perf_counter() - t0
    err = abs(sol.objective - hs.f_star)
    err = err / abs(hs.f_star) if hs.f_star != 0 else err
    certified = sol.kkt is not None and sol.kkt.certified
    return Run(hs.name, config, sol.status.value, certified, err, sol.iterations, secs)


def table(runs: list[Run], configs: list[str]) -> list[str]:
    head = f"{'problem':<8} {'solver':<19} {'status':<16} {'cert':<5} {'rel err':>8} "
    lines = [head + f"{'iters':>6} {'seconds':>8}"]
    for r in runs:
        mark = "" if r.at_optimum else "  *"
        lines.append(
            f"{r.problem:<8} {r.config:<19} {r.status:<16} {'yes' if r.certified else 'no':<5} "
            f"{r.error:>8.1e} {r.iterations:>6} {r.seconds:>8.3f}{mark}"
        )
    lines += ["", f"{'solver':<19} {'at optimum':>12} {'%':>6} {'median iters':>13} {'seconds':>8}"]
    for c in configs:
        mine = [r for r in runs if r.config == c]
        if not mine:
            continue
        good = sum(r.at_optimum for r in mine)
        med = statistics.median(r.iterations for r in mine)
        secs = sum(r.seconds for r in mine)
        lines.append(
            f"{c:<19} {f'{good}/{len(mine)}':>12} {100 * good / len(mine):>5.0f}% "
            f"{med:>13.0f} {secs:>8.1f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the fast subset (CI, < 60 s)")
    parser.add_argument("--problems", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--solvers", default=",".join(CONFIGS), help=f"configurations among {', '.join(CONFIGS)}"
    )
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("ortools_lag").setLevel(logging.ERROR)  # per-block HiGHS notes of alm
    warnings.filterwarnings("ignore")  # scipy's quasi-Newton notes on linear functions
    names = args.problems.split(",") if args.problems else list(FAST if args.quick else PROBLEMS)
    time_limit = args.time_limit or (10.0 if args.quick else 60.0)
    configs = []
    for c in args.solvers.split(","):
        why = usable(c)
        if why is None:
            configs.append(c)
        else:
            print(f"# {c}: not run ({why})")
    runs = []
    for name in names:
        hs = PROBLEMS[name]()
        for c in configs:
            if takes(c, hs):
                runs.append(run_one(c, PROBLEMS[name](), time_limit))
    print("\n".join(table(runs, configs)))
    print("\n* not certified at the published optimum (status, certificate or objective)")


if __name__ == "__main__":
    main()
