"""cvxpy problems imported by ``from_cvxpy``: solved by HiGHS and by the bundle method with
``relax=``, against cvxpy's own solve (HiGHS for LP/MILP, CLARABEL for QP) and its
``dual_value`` (the same sign convention: no conversion)."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from ortools_lag import Status, solve
from ortools_lag.errors import ModelError, NotSupportedError
from ortools_lag.io import cvxpy_duals, from_cvxpy

from .certificates import check_solution
from .import_bank import CVXPY_CASES, Case
from .test_import_pyomo import LAM_TOL, check_bundle_dual

CLARABEL_TIGHT = {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11}


def _reference(case: Case) -> tuple[cp.Problem, list[str] | None, float]:
    prob, names = case.build()
    if case.kind == "qp":
        prob.solve(solver=cp.CLARABEL, **CLARABEL_TIGHT)
    else:
        prob.solve(solver=cp.HIGHS)
    assert prob.status == cp.OPTIMAL
    return prob, names, float(prob.value)


@pytest.mark.parametrize("case", CVXPY_CASES, ids=[c.name for c in CVXPY_CASES])
def test_cvxpy_round_trip(case: Case) -> None:
    prob, names, ref = _reference(case)
    model = from_cvxpy(prob, names=names)
    sol = solve(model, "highs")
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(ref, rel=1e-7, abs=1e-9)
    check_solution(model, sol, duals=case.kind != "milp")
    if case.kind != "milp":
        for ours, con in zip(cvxpy_duals(prob, model, sol, names), prob.constraints):
            assert ours.shape == np.shape(con.dual_value)
            assert ours == pytest.approx(np.asarray(con.dual_value), abs=1e-6)
    for v, block in zip(prob.variables(), model.variables.values()):  # one block each
        assert block.shape == v.shape
    dual = check_bundle_dual(model, case, ref)
    if dual is None:
        return
    relaxed = set(dual.multipliers)
    for ours, con, label in zip(
        cvxpy_duals(prob, model, sol, names), prob.constraints, [*model.groups]
    ):
        if label in relaxed:
            lam = np.asarray(dual.multipliers[label], dtype=float)
            assert lam == pytest.approx(np.asarray(con.dual_value), abs=LAM_TOL[case.kind])
            assert ours.shape == lam.shape


def test_cvxpy_shapes_attributes_and_names() -> None:
    prob, names = next(c for c in CVXPY_CASES if c.name == "facility").build()
    m = from_cvxpy(prob, names=names)
    assert m.variables["open"].shape == (3,) and m.variables["x"].shape == (3, 4)
    assert m.variables["open"].integer_mask.all() and not m.variables["x"].is_integer
    assert (m.groups["serve"].shape, m.groups["link"].shape) == ((4,), (3, 4))
    # C order kept: row (f, k) of "link" is x[f, k] - open[f] <= 0
    J = m.groups["link"].body.jacobian(np.zeros(m.n), m.n).toarray()
    x0, y0 = m.variables["x"].offset, m.variables["open"].offset
    assert J[1 * 4 + 2, x0 + 1 * 4 + 2] == 1.0 and J[1 * 4 + 2, y0 + 1] == -1.0
    unnamed, _ = next(c for c in CVXPY_CASES if c.name == "unnamed").build()
    m2 = from_cvxpy(unnamed)
    assert list(m2.groups) == [f"c{c.id}" for c in unnamed.constraints]
    by_con = from_cvxpy(unnamed, names={unnamed.constraints[1]: "pair"})
    assert list(by_con.groups)[1] == "pair"
    with pytest.raises(ModelError, match="2 names for 2 constraints|1 names for 2"):
        from_cvxpy(unnamed, names=["only"])
    with pytest.raises(ModelError, match="expects a cvxpy Problem"):
        from_cvxpy("min x")


def test_cvxpy_refusals_name_the_atom() -> None:
    x = cp.Variable(2, name="x")
    with pytest.raises(NotSupportedError, match="objective: the cvxpy atom .*exp"):
        from_cvxpy(cp.Problem(cp.Minimize(cp.sum(cp.exp(x)))))
    with pytest.raises(NotSupportedError, match="constraint 'ball'.*SOC|constraint 'ball'.*norm"):
        from_cvxpy(cp.Problem(cp.Minimize(cp.sum(x)), [cp.norm(x, 2) <= 1]), names=["ball"])
    S = cp.Variable((2, 2), symmetric=True)
    with pytest.raises(NotSupportedError, match="attribute 'symmetric'"):
        from_cvxpy(cp.Problem(cp.Minimize(cp.trace(S))))


def test_cvxpy_relax_by_pattern() -> None:
    prob, names = next(c for c in CVXPY_CASES if c.name == "ranged").build()
    m = from_cvxpy(prob, names=names)
    sol = solve(m, "bundle", relax=["[lh]?"])  # "lo" and "hi", not "eq" nor "ub"
    assert set(sol.multipliers) == {"lo", "hi"}
    check_solution(m, sol, duals=False)
