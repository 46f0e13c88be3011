"""``kkt.certify`` on hand-derived points, with bounds finite on some entries only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ortools_lag import Model, kkt
from ortools_lag.model import layout, to_standard_form


def mixed_bounds_lp() -> Model:
    """min x1 + 2 x2 - x3  s.t.  x1 + x2 + x3 == 1,  x1 >= 0,  0 <= x2 <= 5,  x3 <= 0.5.

    By hand: x3 takes its upper bound 0.5, the cheaper x1 takes the rest (0.5), x2 = 0; the
    objective is 0. Stationarity at the interior x1: 1 + lam = 0, so lam = -1; the reduced
    costs are x2: 2 + lam = 1 >= 0 (at its lower bound), x3: -1 + lam = -2 <= 0 (at its upper).
    """
    m = Model()
    x = m.var("x", 3, lb=[0.0, 0.0, -math.inf], ub=[math.inf, 5.0, 0.5])
    m.minimize(np.array([1.0, 2.0, -1.0]) @ x)
    m.add("sum", x.sum() == 1)
    return m


def test_the_hand_derived_optimum_is_certified() -> None:
    m = mixed_bounds_lp()
    rep, r = kkt.certify_with_reduced_costs(m, {"x": [0.5, 0.0, 0.5]}, {"sum": -1.0})
    assert rep.certified, rep.notes
    assert r.tolist() == [0.0, 1.0, -2.0]
    assert rep.dual_objective == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("x", "lam", "broken"),
    [
        ([0.5, 0.0, 0.5], 1.0, "comp"),  # r = (2, 3, 0): x1 > 0 with r1 > 0
        ([0.5, 0.0, 0.5], -3.0, "stationarity"),  # r3 = -4 < 0 is fine, r1 = -2 < 0: no ub
        ([0.6, 0.0, 0.5], -1.0, "primal"),  # the sum is 1.1
        ([0.5, 0.0, 0.5], math.nan, "stationarity"),  # nan multipliers certify nothing
    ],
)
def test_broken_certificates_name_the_residual(x, lam, broken) -> None:
    rep = kkt.certify(mixed_bounds_lp(), {"x": x}, {"sum": lam})
    assert not rep.certified
    assert any(note.startswith(broken) for note in rep.notes), rep.notes


def test_layout_maps_like_the_standard_form() -> None:
    m = Model()
    x = m.var("x", 2)
    m.minimize(x.sum())
    m.add("cap", x.sum() <= 3)
    m.add("low", x >= 1)
    lay, sf = layout(m), to_standard_form(m)
    lam = {"cap": np.array(2.0), "low": np.array([1.0, 4.0])}
    assert lay.rows == sf.m == 3
    assert lay.pack_rows(lam).tolist() == sf.pack_rows(lam).tolist() == [2.0, -1.0, -4.0]
    back = lay.unpack_rows(sf.pack_rows(lam))
    assert back["cap"] == 2.0 and back["low"].tolist() == [1.0, 4.0]
