r"""Set covering: Beasley's Lagrangian heuristic on the relaxed cover rows.

**Model.** ``A`` is the ``m x n`` 0/1 matrix (``a_ij = 1``: column ``j`` covers row ``i``),
``c >= 0`` the column costs::

    min  c . x
    s.t. cover:  A x >= 1        (u_i >= 0)
         x in {0, 1}^n

**Relaxation** ``"cover"`` (the default). Each row is held, in the project's convention, as
``1 - sum_j a_ij x_j <= 0`` with :math:`u_i \ge 0`:

.. math::

    L(u) = \sum_i u_i + \sum_j \min(0, C_j), \qquad C_j = c_j - \sum_i a_{ij} u_i,

solved by the structured oracle in closed form (``x_j = 1`` exactly when the *Lagrangian
cost* :math:`C_j < 0`); the subgradient is ``1 - A x``. **u_i is the price of covering row i**:
what one more unit of cover demanded of row ``i`` would add to the cost at the margin; a column
whose reduced cost :math:`C_j` is negative pays for itself at these prices. ``max L`` equals the
LP relaxation's value (the relaxed problem has the integrality property), and, when the costs
are integers, ``ceil(L)`` is a bound too (``info["bound_int"]``). The Lagrangian heuristic
completes the relaxed columns into a cover greedily (Chvátal's rule) and drops redundant ones.

**Solvers.** The default ``beasley`` (:class:`BeasleySolver`) runs
:func:`~ortools_lag.algorithms.set_cover.solve_set_cover` (Beasley 1990): subgradient steps on
``u`` towards ``1.05`` times the best cover, covers built from every improving relaxed solution
(by costs and by Lagrangian costs), column fixing by reduced cost (``L(u) + C_j >= Z_UB``
cannot improve the best cover), then ruin-and-recreate rounds on the best cover. No MIP solver
is called; the bound is re-evaluated by HiGHS on the kept part (``x`` binary, no rows) at the
reported ``u`` (:func:`~ortools_lag.solvers.bound_certificate.certify_bound`). ``subgradient`` and
``bundle`` take the same relaxation through the oracle and heuristic; ``highs`` solves the
Model as a MIP.

>>> import numpy as np
>>> from ortools_lag import solve
>>> p = build([2.0, 2.0, 3.0], [[1, 0, 1], [1, 1, 0], [0, 1, 1], [1, 1, 1]])
>>> sol = solve(p)
>>> sol.solver, sol.status.value, sol.objective, sol.bound <= 3.5, sol.info["bound_int"]
('beasley', 'optimal', 4.0, True, 4.0)
>>> p.decode(sol).columns
[0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import Field

from ortools_lag.algorithms.set_cover import greedy_cover, lagrangian_oracle, solve_set_cover
from ortools_lag.errors import ModelError
from ortools_lag.io.scp import read_scp
from ortools_lag.model import Model
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.result import Solution
from ortools_lag.solvers.dual.ascent_termination import ascent_termination
from ortools_lag.solvers.dual.lagrangian_heuristic import (
    LagrangianHeuristicOptions,
    LagrangianHeuristicSolver,
    Outcome,
    ascent_history,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["BeasleyOptions", "BeasleySolver", "CoverAnswer", "SetCoverData", "build", "read"]


@dataclass(frozen=True, eq=False)
class SetCoverData:
    """The arrays behind a set-covering Problem.

    Attributes
    ----------
    costs
        ``(n,)`` column costs.
    matrix
        ``(m, n)`` CSR 0/1 covering matrix (float).
    name
        Instance name.
    """

    costs: np.ndarray
    matrix: sp.csr_matrix
    name: str

    @property
    def integral(self) -> bool:
        """Every cost is an integer (cover costs are then integers)."""
        return bool(np.all(self.costs == np.round(self.costs)))


@dataclass(frozen=True)
class CoverAnswer:
    """A decoded set-covering Solution.

    Attributes
    ----------
    columns
        The chosen columns (0-based, increasing).
    cost
        Their total cost.
    """

    columns: list[int]
    cost: float


def build(
    costs: npt.ArrayLike,
    matrix: npt.ArrayLike | sp.spmatrix | None = None,
    *,
    rows: list[list[int]] | None = None,
    name: str = "set_cover",
) -> Problem:
    """The set-covering Problem from costs and a 0/1 matrix (or the columns of each row).

    Parameters
    ----------
    costs
        ``(n,)`` finite non-negative column costs.
    matrix
        ``(m, n)`` 0/1 matrix, dense or scipy.sparse (any nonzero counts as 1).
    rows
        Instead of ``matrix``: for each row, the 0-based columns that cover it.
    name
        The model's name.

    Examples
    --------
    >>> p = build([1.0, 1.0, 1.0], rows=[[0, 1], [1, 2], [0, 2]])
    >>> p.model.n, p.model.groups["cover"].shape, p.default_solver
    (3, (3,), 'beasley')
    """
    c = np.asarray(costs, dtype=np.float64).reshape(-1)
    if (matrix is None) == (rows is None):
        raise ModelError("give exactly one of matrix and rows")
    if rows is not None:
        a = _from_rows(rows, c.size)
    else:
        a = sp.csr_matrix(matrix, dtype=np.float64) if sp.issparse(matrix) else None
        if a is None:
            dense = np.asarray(matrix, dtype=np.float64)
            if dense.ndim != 2:
                raise ModelError(f"matrix must be 2-D, got shape {dense.shape}")
            a = sp.csr_matrix(dense)
    a.eliminate_zeros()
    a.data[:] = 1.0
    if a.shape[1] != c.size:
        raise ModelError(f"costs of length {c.size} do not match a matrix of shape {a.shape}")
    if not np.isfinite(c).all() or (c < 0).any():
        raise ModelError("set-cover costs must be finite and non-negative")
    empty = np.flatnonzero(np.diff(a.indptr) == 0)
    if empty.size:
        raise ModelError(f"row {int(empty[0])} is covered by no column: the instance is infeasible")
    return _problem(SetCoverData(c, a, name))


def _from_rows(rows: list[list[int]], n: int) -> sp.csr_matrix:
    lens = np.array([len(r) for r in rows], dtype=np.int64)
    cols = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows]) if rows else np.zeros(0)
    if cols.size and (cols.min() < 0 or cols.max() >= n):
        raise ModelError(f"a row names a column outside 0..{n - 1}")
    ptr = np.concatenate([[0], np.cumsum(lens)])
    return sp.csr_matrix((np.ones(cols.size), cols.astype(np.int64), ptr), shape=(len(rows), n))


def read(path: str | Path) -> Problem:
    """An OR-Library ``scp`` file as a set-covering Problem.

    Examples
    --------
    >>> from ortools_lag import __file__ as pkg
    >>> p = read(Path(pkg).parents[1] / "data" / "scp" / "scp41.txt")
    >>> p.data.matrix.shape
    (200, 1000)
    """
    inst = read_scp(path)
    problem = build(inst.costs, inst.matrix, name=inst.name)
    problem.metadata["file"] = str(path)
    return problem


def _model(data: SetCoverData) -> Model:
    mdl = Model(data.name)
    x = mdl.var("x", data.costs.size, ub=1, domain="binary")
    mdl.minimize(data.costs @ x)
    mdl.add("cover", data.matrix @ x >= 1)
    return mdl


def _problem(data: SetCoverData) -> Problem:
    relax = Relaxation(
        relax=("cover",),
        oracle=_oracle(data),
        heuristic=_heuristic(data),
        description="cover rows relaxed: x_j = 1 where the Lagrangian cost c_j - (A^T u)_j < 0",
    )
    return Problem(
        _model(data),
        relaxations={"cover": relax},
        default_relaxation="cover",
        decode=lambda sol: decode(data, sol),
        kind="set_cover",
        default_solver="beasley",
        data=data,
        metadata={"name": data.name, "rows": data.matrix.shape[0], "columns": data.costs.size},
    )


def _oracle(data: SetCoverData) -> Any:
    def oracle(lam: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
        u = np.asarray(lam["cover"], dtype=np.float64).reshape(-1)
        r = lagrangian_oracle(data.costs, data.matrix, u)
        return {"x": r.x.astype(np.float64)}, r.value

    return oracle


def _heuristic(data: SetCoverData) -> Any:
    def heuristic(point: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        start = np.asarray(point["x"]).reshape(-1) > 0.5
        return {"x": greedy_cover(data.costs, data.matrix, start).astype(np.float64)}

    return heuristic


def decode(data: SetCoverData, sol: Solution) -> CoverAnswer:
    """The chosen columns of a Solution and their cost."""
    if "x" not in sol.x:
        raise ModelError(f"the solution has no point ({sol.status.value}): {sol.message}")
    cols = np.flatnonzero(np.asarray(sol.x["x"]).reshape(-1) > 0.5)
    return CoverAnswer([int(j) for j in cols], float(data.costs[cols].sum()))


class BeasleyOptions(LagrangianHeuristicOptions):
    """Options of ``beasley`` (see :func:`~ortools_lag.algorithms.set_cover.solve_set_cover`).

    Attributes
    ----------
    f0, f_min, patience
        Step factor: from ``f0``, halved after ``patience`` steps without a better bound; the
        ascent stops below ``f_min``.
    target_factor
        Steps aim at ``target_factor`` times the best cover's cost.
    heuristic_every
        Covers are built every this many iterations and whenever the bound improves.
    lns_rounds
        Ruin-and-recreate rounds on the best cover after the ascent.
    certify_max_vars
        The HiGHS re-evaluation's size limit; its kept part has no rows, so the default is large.
    """

    f0: float = Field(default=2.0, gt=0)
    f_min: float = Field(default=0.005, gt=0)
    patience: int = Field(default=30, ge=1)
    target_factor: float = Field(default=1.05, ge=1)
    heuristic_every: int = Field(default=10, ge=1)
    lns_rounds: int = Field(default=600, ge=0)
    certify_max_vars: int = Field(default=1_000_000, ge=1)


class BeasleySolver(LagrangianHeuristicSolver):
    """Beasley's Lagrangian heuristic for set covering, certified by the engine."""

    name = "beasley"
    description = "Beasley's Lagrangian heuristic: subgradient, greedy covers, column fixing"
    kinds = ("set_cover",)
    relaxation = "cover"
    Options = BeasleyOptions

    def run(self, problem: Problem, options: LagrangianHeuristicOptions) -> Outcome:
        assert isinstance(options, BeasleyOptions)
        data: SetCoverData = problem.data
        max_iter = options.max_iter or 3000
        res = solve_set_cover(
            data.costs,
            data.matrix,
            max_iter=max_iter,
            f0=options.f0,
            f_min=options.f_min,
            patience=options.patience,
            target_factor=options.target_factor,
            heuristic_every=options.heuristic_every,
            lns_rounds=options.lns_rounds,
            seed=options.seed,
            time_limit=options.time_limit,
        )
        limit = options.time_limit
        timed_out = limit is not None and res.seconds >= 0.95 * limit
        term = ascent_termination(res.gap, res.iterations, max_iter, timed_out=timed_out)
        return Outcome(
            bound=res.bound,
            multipliers={"cover": res.multipliers},
            x={"x": res.x.astype(np.float64)},
            history=ascent_history(res.history, res.seconds),
            iterations=res.iterations,
            termination=term,
            integral=data.integral,
            point_from="Beasley's greedy covers from the relaxed solutions, ruin-and-recreate",
            info={"fixed_columns": int(res.fixed_zero.sum())},
        )
