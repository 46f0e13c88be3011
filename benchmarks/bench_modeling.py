"""Build + hand-off to HiGHS of a dense transportation LP through ortools_lag, cvxpy and Pyomo.

    minimise sum_ij C_ij x_ij  s.t.  sum_j x_ij <= s_i,  sum_i x_ij >= d_j,  x >= 0

For each tool, in one run: the time to build the model and hand it to HiGHS (up to the point
where HiGHS starts), the HiGHS solve time, and the ratios to ours. ``--quick`` runs a tiny size
(used by CI so the script does not rot); the default is n = 1000 (10^6 variables).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def instance(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    C = rng.integers(1, 100, size=(n, n)).astype(float)
    s = rng.integers(5, 15, size=n).astype(float)
    d = np.full(n, s.sum() / n * 0.9)
    return C, s, d


def ours(C: np.ndarray, s: np.ndarray, d: np.ndarray, solve: bool) -> tuple[float, float, float]:
    from ortools_lag import Model
    from ortools_lag.model import to_standard_form
    from ortools_lag.solvers.backends.highs import HighsOptions, _configure, new_highs, pass_model

    t0 = time.perf_counter()
    m = Model()
    x = m.var("x", C.shape)
    m.minimize((C * x).sum())
    m.add("supply", x.sum(axis=1) <= s)
    m.add("demand", x.sum(axis=0) >= d)
    sf = to_standard_form(m)
    h = new_highs()
    _configure(h, HighsOptions())
    pass_model(h, sf)
    t1 = time.perf_counter()
    if not solve:
        return t1 - t0, float("nan"), float("nan")
    h.run()
    return t1 - t0, time.perf_counter() - t1, h.getInfo().objective_function_value


def with_cvxpy(
    C: np.ndarray, s: np.ndarray, d: np.ndarray, solve: bool
) -> tuple[float, float, float]:
    import cvxpy as cp

    t0 = time.perf_counter()
    X = cp.Variable(C.shape, nonneg=True)
    prob = cp.Problem(
        cp.Minimize(cp.sum(cp.multiply(C, X))), [cp.sum(X, axis=1) <= s, cp.sum(X, axis=0) >= d]
    )
    data, chain, inverse = prob.get_problem_data(cp.HIGHS)
    t1 = time.perf_counter()
    if not solve:
        return t1 - t0, float("nan"), float("nan")
    prob.solve(solver=cp.HIGHS)
    solve_t = prob.solver_stats.solve_time or float("nan")
    return t1 - t0, float(solve_t), float(prob.value)


def with_pyomo(
    C: np.ndarray, s: np.ndarray, d: np.ndarray, solve: bool
) -> tuple[float, float, float]:
    import pyomo.environ as pe
    from pyomo.contrib.appsi.solvers.highs import Highs

    n = C.shape[0]
    t0 = time.perf_counter()
    m = pe.ConcreteModel()
    m.I = pe.RangeSet(0, n - 1)
    m.x = pe.Var(m.I, m.I, within=pe.NonNegativeReals)
    m.obj = pe.Objective(expr=pe.quicksum(C[i, j] * m.x[i, j] for i in range(n) for j in range(n)))
    m.sup = pe.Constraint(m.I, rule=lambda m, i: pe.quicksum(m.x[i, j] for j in range(n)) <= s[i])
    m.dem = pe.Constraint(m.I, rule=lambda m, j: pe.quicksum(m.x[i, j] for i in range(n)) >= d[j])
    opt = Highs()
    opt.config.load_solution = False
    opt.set_instance(m)
    t1 = time.perf_counter()
    if not solve:
        return t1 - t0, float("nan"), float("nan")
    res = opt.solve(m)
    return t1 - t0, time.perf_counter() - t1, float(res.best_feasible_objective)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="tiny size for CI")
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--no-solve", action="store_true", help="time build + hand-off only")
    ap.add_argument("--skip", nargs="*", default=[], choices=["cvxpy", "pyomo"])
    args = ap.parse_args()
    n = 30 if args.quick else args.n
    C, s, d = instance(n)
    print(f"dense transportation LP, {n} x {n} = {n * n} variables")
    rows = [("ortools_lag", ours)]
    rows += [
        (k, f) for k, f in (("cvxpy", with_cvxpy), ("pyomo", with_pyomo)) if k not in args.skip
    ]
    res = {}
    for name, fn in rows:
        res[name] = fn(C, s, d, not args.no_solve)
    base = res["ortools_lag"][0]
    print(
        f"{'tool':12s} {'build+hand-off s':>17s} {'HiGHS solve s':>14s} "
        f"{'objective':>16s} {'hand-off ratio':>15s}"
    )
    for name, (build, solve_t, obj) in res.items():
        print(f"{name:12s} {build:17.3f} {solve_t:14.3f} {obj:16.6g} {build / base:14.1f}x")
    objs = [r[2] for r in res.values() if np.isfinite(r[2])]
    if len(objs) > 1:
        assert np.allclose(objs, objs[0], rtol=1e-6), "tools disagree on the optimum"


if __name__ == "__main__":
    main()
