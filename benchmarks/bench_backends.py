"""The same LPs through every backend (highs, scipy, cvxpy, pyomo) against raw highspy.

    transportation: minimise sum_ij C_ij x_ij  s.t.  sum_j x_ij <= s_i,  sum_i x_ij >= d_j,  x >= 0

plus two Netlib files (published optima in data/MANIFEST.md). For each backend: the wall time from
the Model to a certified Solution (translation, solve, duals, certificate; imports excluded by a
warm-up solve), the objective's
relative difference from raw highspy, and the overhead: that time over raw highspy's
(``passModel`` + ``run`` on arrays prepared beforehand). ``--quick`` (CI) runs a 20 x 50
transportation problem and afiro + sc50a; the default is 100 x 1000 (10^5 variables) and
adlittle + stocfor1.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ortools_lag import Model, solve
from ortools_lag.highs_model import highs_lp, new_highs
from ortools_lag.io import read_mps
from ortools_lag.model import to_standard_form

DATA = Path(__file__).parents[1] / "data" / "netlib"
BACKENDS = ("highs", "scipy", "cvxpy", "pyomo")
OPTIMA = {  # Netlib lp/data/readme (MINOS 5.3)
    "afiro": -4.6475314286e02,
    "sc50a": -6.4575077059e01,
    "adlittle": 2.2549496316e05,
    "stocfor1": -4.1131976219e04,
    "share2b": -4.1573224074e02,
    "kb2": -1.7499001299e03,
}


def transportation(ns: int, nd: int, seed: int = 0) -> Model:
    """A balanced-enough random transportation LP with ``ns * nd`` variables."""
    rng = np.random.default_rng(seed)
    C = rng.integers(1, 100, size=(ns, nd)).astype(float)
    s = rng.integers(5, 15, size=ns).astype(float)
    d = np.full(nd, s.sum() / nd * 0.9)
    m = Model(f"transportation_{ns}x{nd}")
    x = m.var("x", (ns, nd))
    m.minimize((C * x).sum())
    m.add("supply", x.sum(axis=1) <= s)
    m.add("demand", x.sum(axis=0) >= d)
    return m


def raw_highspy(model: Model) -> tuple[float, float]:
    """Objective and seconds of highspy alone (``passModel`` + ``run``) on prepared arrays."""
    sf = to_standard_form(model)
    lp = highs_lp(sf)
    h = new_highs()
    h.setOptionValue("threads", 1)
    t0 = time.perf_counter()
    h.passModel(lp)
    h.run()
    secs = time.perf_counter() - t0
    return sf.sense * float(h.getInfo().objective_function_value), secs


def run(name: str, build: Callable[[], Model], known: float | None) -> list[str]:
    ref, base = raw_highspy(build())
    rows = [f"{name:<34} {'raw highspy':<8} {ref:>18.10g} {'-':>9} {base:>9.3f} {1.0:>9.1f}"]
    for backend in BACKENDS:
        model = build()
        t0 = time.perf_counter()
        sol = solve(model, backend)
        secs = time.perf_counter() - t0
        rel = abs(sol.objective - ref) / max(1.0, abs(ref))
        ok = "" if sol.kkt is not None and sol.kkt.certified else "  (not certified)"
        rows.append(
            f"{'':<34} {backend:<8} {sol.objective:>18.10g} {rel:>9.1e} {secs:>9.3f} "
            f"{secs / base:>9.1f}{ok}"
        )
    if known is not None:
        rows.append(f"{'':<34} published optimum {known:.10g}")
    return rows


def warm_up() -> None:
    """Import every backend's package once, so that the timings exclude import time."""
    for backend in BACKENDS:
        solve(transportation(2, 3), backend)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI, < 30 s)")
    parser.add_argument("--sources", type=int, default=100, help="transportation: sources")
    parser.add_argument("--sinks", type=int, default=1000, help="transportation: sinks")
    parser.add_argument("--netlib", default="adlittle,stocfor1", help="two Netlib names")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ns, nd = (20, 50) if args.quick else (args.sources, args.sinks)
    names = ["afiro", "sc50a"] if args.quick else args.netlib.split(",")
    warm_up()
    print(
        f"{'instance':<34} {'backend':<8} {'objective':>18} {'rel diff':>9} {'seconds':>9} "
        f"{'x raw':>9}"
    )
    lines = run(f"transportation {ns}x{nd} ({ns * nd} vars)", lambda: transportation(ns, nd), None)
    for name in names:
        path = DATA / f"{name}.mps.gz"
        lines += run(f"netlib {name}", lambda p=path: read_mps(p), OPTIMA.get(name))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
