"""Sensitivity ranging (``ortools_lag.analysis.ranging``) against known answers and re-solves.

- Reddy Mikks (Taha, *Operations Research: An Introduction*, the sensitivity-analysis chapter;
  also derivable by hand from the two binding rows): c1 in [2, 6], c2 in [10/3, 10], the first
  row's bound in [20, 36] and the second's in [4, 20/3], shadow prices 3/4 and 1/2.
- On Netlib LPs from ``data/netlib`` (objectives in data/MANIFEST.md) and a transportation LP,
  every reported interval is checked by re-solving with HiGHS started from the solution's basis:
  inside (half-way to each end, or one unit for an open end) the basis stays optimal (no
  simplex iteration) and the objective moves with the reported slope; just outside each finite
  end (1e-4 relative) HiGHS has to pivot: the basis changes.
- HiGHS's ranging and ours, from the same basis, agree entry by entry.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from ortools_lag import Model, solve
from ortools_lag.analysis import ranging
from ortools_lag.analysis.basis import basis_of_solution, basis_to_highs
from ortools_lag.cli import main
from ortools_lag.errors import NotSupportedError
from ortools_lag.highs_model import new_highs, pass_model
from ortools_lag.io import read_mps
from ortools_lag.model import to_standard_form
from tests.certificates import check_solution

DATA = Path(__file__).resolve().parents[1] / "data"


def reddy_mikks() -> Model:
    m = Model("reddy_mikks")
    x = m.var("x", 2)
    m.maximize(5 * x[0] + 4 * x[1])
    m.add("m1", 6 * x[0] + 4 * x[1] <= 24)
    m.add("m2", x[0] + 2 * x[1] <= 6)
    m.add("m3", x[1] - x[0] <= 1)
    m.add("m4", x[1] <= 2)
    return m


def transportation() -> Model:
    """3 plants, 4 markets, balanced; a minimisation with equality (demand) rows."""
    cost = np.array([[4.0, 6, 9, 5], [7, 3, 8, 6], [5, 8, 4, 7]])
    m = Model("transport")
    x = m.var("x", (3, 4))
    m.minimize((cost * x).sum())
    m.add("supply", x.sum(axis=1) <= [40.0, 50, 30])
    m.add("demand", x.sum(axis=0) == [30.0, 35, 25, 20])
    return m


@pytest.mark.parametrize("method", ["highs", "basis"])
def test_reddy_mikks_matches_the_textbook(method: str) -> None:
    m = reddy_mikks()
    sol = solve(m, "highs")
    check_solution(m, sol)
    assert sol.objective == pytest.approx(21.0)
    rg = ranging(m, sol, method=method)
    assert rg.method == method
    np.testing.assert_allclose(rg.costs["x"].lower, [2.0, 10 / 3], rtol=1e-9)
    np.testing.assert_allclose(rg.costs["x"].upper, [6.0, 10.0], rtol=1e-9)
    np.testing.assert_allclose(rg.costs["x"].slope, [3.0, 1.5], rtol=1e-9)
    rows = {r["name"]: r for r in rg.table() if r["kind"] == "rhs"}
    assert (rows["m1"]["lower"], rows["m1"]["upper"]) == pytest.approx((20.0, 36.0))
    assert (rows["m2"]["lower"], rows["m2"]["upper"]) == pytest.approx((4.0, 20 / 3))
    assert rows["m1"]["slope"] == pytest.approx(0.75) and rows["m2"]["slope"] == pytest.approx(0.5)
    # inactive rows: slack 2.5 and 0.5 -> the bound may fall to the activity, rise forever
    assert (rows["m3"]["lower"], rows["m3"]["upper"], rows["m3"]["slope"]) == (
        pytest.approx(-1.5),
        math.inf,
        0.0,
    )
    assert rows["m4"]["lower"] == pytest.approx(1.5) and rows["m4"]["slope"] == 0.0
    # the slopes of the rows are the solution's shadow prices
    assert rows["m1"]["slope"] == pytest.approx(float(sol.shadow_prices["m1"]))


class Resolver:
    """Re-solves with HiGHS from the solution's basis after changing one cost or row bound."""

    def __init__(self, model: Model, sol) -> None:
        self.sf = sf = to_standard_form(model)
        self.h = h = new_highs()
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")
        pass_model(h, sf)
        self.basis = basis_to_highs(basis_of_solution(model, sf, sol))

    def _run(self) -> tuple[float | None, int]:
        self.h.setBasis(self.basis)
        self.h.run()
        info = self.h.getInfo()
        ok = self.h.getModelStatus().name == "kOptimal"
        val = self.sf.sense * info.objective_function_value if ok else None
        return val, int(info.simplex_iteration_count)

    def cost(self, j: int, user_value: float) -> tuple[float | None, int]:
        old = self.sf.c[j]
        self.h.changeColCost(j, self.sf.sense * user_value)
        out = self._run()
        self.h.changeColCost(j, old)
        return out

    def rhs(self, i: int, value: float, new: float) -> tuple[float | None, int]:
        lo, hi = self.sf.row_lo[i], self.sf.row_hi[i]
        nlo, nhi = (new, new) if lo == hi else ((lo, new) if value == hi else (new, hi))
        if nlo > nhi:
            return None, 1
        self.h.changeRowBounds(i, nlo, nhi)
        out = self._run()
        self.h.changeRowBounds(i, lo, hi)
        return out


def check_by_resolves(model: Model, sol, rg) -> tuple[int, int]:
    """Assert the module docstring's two properties for every entry; return the counts."""
    f0 = sol.objective
    res = Resolver(model, sol)
    inside = outside = 0
    for k, r in enumerate(rg.table()):
        v, lo, hi, slope = r["value"], r["lower"], r["upper"], r["slope"]
        if r["kind"] == "cost":
            move = lambda t, j=k: res.cost(j, t)  # noqa: E731
        else:
            move = lambda t, i=k - res.sf.n, v=v: res.rhs(i, v, t)  # noqa: E731
        for end in (lo, hi):
            t = (
                v + 0.5 * (end - v)
                if math.isfinite(end)
                else v + math.copysign(max(1, abs(v)), end)
            )
            if t == v:
                continue
            got, its = move(t)
            inside += 1
            assert its == 0, f"{r}: the basis is no longer optimal at {t}"
            assert got == pytest.approx(
                f0 + slope * (t - v), rel=1e-7, abs=1e-7 * max(1, abs(t - v))
            )
        for end, side in ((lo, -1), (hi, 1)):
            if math.isfinite(end):
                t = end + side * 1e-4 * max(1.0, abs(end))
                got, its = move(t)
                outside += 1
                assert its > 0 or got is None, f"{r}: the basis is still optimal at {t}"
    return inside, outside


# published optima, data/MANIFEST.md (netlib table)
NETLIB = {
    "afiro": -4.6475314286e02,
    "adlittle": 2.2549496316e05,
    "sc50a": -6.4575077059e01,
    "blend": -3.0812149846e01,
    "kb2": -1.7499001299e03,
}


@pytest.mark.parametrize("name", NETLIB)
@pytest.mark.parametrize("method", ["highs", "basis"])
def test_netlib_ranging_holds_under_resolves(name: str, method: str) -> None:
    m = read_mps(DATA / "netlib" / f"{name}.mps.gz")
    sol = solve(m, "highs")
    check_solution(m, sol)
    assert sol.objective == pytest.approx(NETLIB[name], rel=1e-6)
    rg = ranging(m, sol, method=method)
    inside, outside = check_by_resolves(m, sol, rg)
    assert inside >= len(rg.table()) and outside > 0


@pytest.mark.parametrize("build", [reddy_mikks, transportation])
def test_small_lps_hold_under_resolves(build) -> None:
    m = build()
    sol = solve(m, "highs")
    check_solution(m, sol)
    for method in ("highs", "basis"):
        check_by_resolves(m, sol, ranging(m, sol, method=method))


@pytest.mark.parametrize("name", ["afiro", "sc50a", "share2b", "transport"])
def test_highs_and_our_computation_agree(name: str) -> None:
    m = transportation() if name == "transport" else read_mps(DATA / "netlib" / f"{name}.mps.gz")
    sol = solve(m, "highs")
    a, b = ranging(m, sol, method="highs").table(), ranging(m, sol, method="basis").table()
    assert [r["name"] for r in a] == [r["name"] for r in b]
    for key in ("value", "lower", "upper", "slope"):
        np.testing.assert_allclose([r[key] for r in a], [r[key] for r in b], rtol=1e-7, atol=1e-7)


def test_scipy_solution_is_ranged_by_our_computation() -> None:
    m = transportation()
    sol = solve(m, "scipy")
    check_solution(m, sol)
    assert sol.objective == pytest.approx(solve(m, "highs").objective)
    rg = ranging(m, sol)
    assert rg.method == "basis"  # not a HiGHS solution: the basis is built from the point
    check_by_resolves(m, sol, rg)


def test_solve_option_fills_the_field_and_json() -> None:
    m = reddy_mikks()
    sol = solve(m, "highs", ranging=True)
    assert sol.ranging is not None and sol.ranging.method == "highs"
    doc = json.loads(json.dumps(sol.to_dict()["ranging"]))
    assert doc["rows"]["m3"]["upper"] == "inf"
    assert doc["costs"]["x"]["lower"] == pytest.approx([2.0, 10 / 3])
    assert solve(m, "highs").ranging is None


def test_refusals_name_the_reason() -> None:
    m = Model()
    x = m.var("x", 2, domain="integer", ub=3)
    m.maximize(x.sum())
    m.add("c", x.sum() <= 4)
    with pytest.raises(NotSupportedError, match="integer"):
        ranging(m, solve(m, "highs"))
    with pytest.raises(Exception, match="method"):
        ranging(reddy_mikks(), solve(reddy_mikks(), "highs"), method="guess")  # type: ignore[arg-type]


def test_cli_diagnose_prints_ranging_for_a_feasible_lp(tmp_path: Path, capsys) -> None:
    out = tmp_path / "d.json"
    assert main(["diagnose", str(DATA / "netlib" / "afiro.mps.gz"), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["status"] == "optimal" and doc["ranging"]["method"] == "highs"
    assert "ranging" in capsys.readouterr().out


def test_cli_solve_ranging_in_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    afiro = str(DATA / "netlib" / "afiro.mps.gz")
    assert main(["solve", afiro, "-q", "--ranging", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["objective"] == pytest.approx(NETLIB["afiro"], rel=1e-9)
    assert doc["ranging"]["method"] == "highs" and len(doc["ranging"]["table"]) == 32 + 27
