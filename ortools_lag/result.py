"""Results: Solution, Status, Termination, KKTReport and History.

Every solver, ours or a backend's, returns one frozen :class:`Solution`. ``status`` says what the
returned point is; ``termination`` says why the solver stopped. Both are string enums.

Sign convention of ``multipliers`` (see ``kkt.py``): for a minimisation ``L = f + sum(lam * c)``
with ``lhs <= rhs`` held as ``lhs - rhs <= 0``, ``lhs >= rhs`` as ``rhs - lhs <= 0`` and
``lhs == rhs`` as ``lhs - rhs == 0``; ``lam >= 0`` on inequalities. A maximisation is the
minimisation of ``-f``. Two-sided groups carry ``mu_upper - mu_lower``.

>>> Status.OPTIMAL.value, Termination.CONVERGED == "converged"
('optimal', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ortools_lag.analysis.sensitivity import Ranging

__all__ = ["History", "KKTReport", "Solution", "Status", "Termination"]


class Status(str, Enum):
    """What the returned point is.

    ``LOCALLY_OPTIMAL``: the KKT conditions hold (first order, certified) but nothing proves the
    point global, as for a non-convex nonlinear model; ``OPTIMAL`` needs that proof too.
    """

    OPTIMAL = "optimal"
    LOCALLY_OPTIMAL = "locally_optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    NO_SOLUTION = "no_solution"

    def __str__(self) -> str:
        return self.value


class Termination(str, Enum):
    """Why the solver stopped."""

    CONVERGED = "converged"
    ITERATION_LIMIT = "iteration_limit"
    NODE_LIMIT = "node_limit"
    TIME_LIMIT = "time_limit"
    GAP_LIMIT = "gap_limit"
    STALLED = "stalled"
    NUMERICAL_ERROR = "numerical_error"
    INTERRUPTED = "interrupted"
    CALLBACK = "callback"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


def _plain(value: Any) -> Any:
    """Convert numpy containers to JSON-friendly Python values."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


@dataclass(frozen=True)
class KKTReport:
    """Residuals of the KKT conditions, computed by ``kkt.certify`` from the model itself.

    All residuals are relative: primal ``||violation||_inf / (1 + ||rhs||_inf)``, stationarity
    ``||grad_x L||_inf / (1 + ||c||_inf)``, complementarity likewise scaled, and the duality gap
    ``|objective - dual_objective| / (1 + |objective|)``.

    Attributes
    ----------
    primal_residual, stationarity, complementarity, duality_gap, sign_violation
        The relative residuals; ``nan`` where not applicable (for example stationarity of a MILP).
    integrality
        Largest distance of an integer variable from an integer (0 for continuous models).
    dual_objective
        The dual objective (in the user's sense) implied by the multipliers, ``nan`` if unknown.
    tolerance
        The tolerance the report was judged with.
    certified
        True when every applicable residual is within ``tolerance``.
    kind
        ``"kkt"`` (continuous optimality), ``"mip"`` (feasibility, integrality and gap),
        ``"farkas"`` (infeasibility ray), ``"ray"`` (unbounded direction),
        ``"feasibility"`` (a point with no multipliers), ``"lagrangian"`` (a relaxation bound).
    notes
        Human-readable lines explaining failures.
    """

    primal_residual: float = math.nan
    stationarity: float = math.nan
    complementarity: float = math.nan
    duality_gap: float = math.nan
    sign_violation: float = math.nan
    integrality: float = math.nan
    dual_objective: float = math.nan
    tolerance: float = 1e-6
    certified: bool = False
    kind: str = "kkt"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain Python values."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class History:
    """Per-iteration record of an iterative solver (all arrays have one entry per iteration).

    Attributes
    ----------
    iteration, dual_value, bound, primal, gap, step, violation, seconds
        The Lagrangian value at the current multipliers, the best bound so far, the best
        feasible objective so far (``nan`` until one is found), the gap, the step size, the
        norm of the relaxed constraints' violation and the elapsed time.
    extra
        Further named series (for example the norm of the multipliers).
    """

    iteration: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    dual_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bound: np.ndarray = field(default_factory=lambda: np.zeros(0))
    primal: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gap: np.ndarray = field(default_factory=lambda: np.zeros(0))
    step: np.ndarray = field(default_factory=lambda: np.zeros(0))
    violation: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seconds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: list[Mapping[str, float]]) -> History:
        """Build a history from one mapping per iteration (missing keys become ``nan``).

        >>> recs = [{"iteration": 1, "bound": 2.0}, {"iteration": 2, "bound": 3.0}]
        >>> h = History.from_records(recs)
        >>> h.bound.tolist(), len(h)
        ([2.0, 3.0], 2)
        """
        own = {f.name for f in fields(cls)} - {"extra"}
        keys = {k for r in records for k in r}
        cols = {k: np.array([r.get(k, math.nan) for r in records], dtype=float) for k in keys}
        it = cols.pop("iteration", np.arange(1, len(records) + 1, dtype=float)).astype(int)
        kwargs: dict[str, Any] = {k: cols.pop(k) for k in list(cols) if k in own}
        return cls(iteration=it, extra=cols, **kwargs)

    def __len__(self) -> int:
        return int(self.iteration.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """Return the history as plain Python lists."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "extra"}
        out.update({k: _plain(v) for k, v in self.extra.items()})
        return out


@dataclass(frozen=True)
class Solution:
    """The answer of every solver, in one shape.

    Attributes
    ----------
    status, termination
        What the point is, and why the solver stopped.
    objective
        Objective value of ``x`` in the user's sense (``nan`` when there is no point).
    bound
        A proven bound: lower for a minimisation, upper for a maximisation (``nan`` if none).
    gap
        ``objective - bound`` for a minimisation, ``bound - objective`` for a maximisation
        (absolute; ``rel_gap`` divides by ``max(1, |objective|)``).
    x
        Values by variable name, in the variables' shapes.
    multipliers
        Lagrange multipliers by constraint-group name, in the groups' shapes, in the one sign
        convention of the module docstring.
    reduced_costs
        By variable name: ``grad f + J^T lam`` (the bound multipliers: >= 0 at a lower bound,
        <= 0 at an upper bound). For a maximisation, of ``-f``.
    shadow_prices
        d objective / d rhs by group, derived from the multipliers.
    kkt
        The certificate computed by ``kkt.certify`` (never taken on a solver's word).
    history
        Per-iteration record of an iterative solver, else ``None``.
    solver, iterations, seconds, message
        Which solver, how many iterations, wall time, and the backend's raw status text.
    ray
        For infeasible/unbounded LPs: ``{"farkas": {group: y}}`` or ``{"direction": {var: d}}``.
    info
        Further facts (which method produced the bound and the point, options used...).
    ranging
        Cost and right-hand-side ranging of an LP, filled only on request
        (``solve(m, "highs", ranging=True)`` or ``ortools_lag.analysis.ranging``), else ``None``.
    """

    status: Status
    termination: Termination
    objective: float = math.nan
    bound: float = math.nan
    gap: float = math.nan
    x: Mapping[str, np.ndarray] = field(default_factory=dict)
    multipliers: Mapping[str, np.ndarray] = field(default_factory=dict)
    reduced_costs: Mapping[str, np.ndarray] = field(default_factory=dict)
    shadow_prices: Mapping[str, np.ndarray] = field(default_factory=dict)
    kkt: KKTReport | None = None
    history: History | None = None
    solver: str = ""
    iterations: int = 0
    seconds: float = 0.0
    message: str = ""
    ray: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)
    ranging: Ranging | None = None

    @property
    def rel_gap(self) -> float:
        """The gap divided by ``max(1, |objective|)``."""
        return float(self.gap / max(1.0, abs(self.objective)))

    @property
    def ok(self) -> bool:
        """True when the status is optimal, locally optimal or feasible."""
        return self.status in (Status.OPTIMAL, Status.LOCALLY_OPTIMAL, Status.FEASIBLE)

    def to_dict(self) -> dict[str, Any]:
        """Return the solution as plain, JSON-serialisable Python values."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        out["rel_gap"] = _plain(self.rel_gap) if math.isfinite(self.gap) else None
        return out

    def _repr_html_(self) -> str:
        """The solution as a small HTML table (notebooks): status, values, certificate, λ.

        >>> sol = Solution(Status.OPTIMAL, Termination.CONVERGED, 21.0, 21.0, 0.0,
        ...                multipliers={"m1": np.array(0.75)})
        >>> "<td>λ m1</td><td>0.75</td>" in sol._repr_html_()
        True
        """
        from html import escape

        rows = [
            ("status", f"{self.status.value} ({self.termination.value})"),
            ("solver", self.solver),
            ("objective", f"{self.objective:.10g}"),
            ("bound", f"{self.bound:.10g}"),
            ("gap", f"{self.gap:.10g}"),
        ]
        if self.kkt is not None:
            verdict = "certified" if self.kkt.certified else "not certified"
            rows.append(("certificate", f"{self.kkt.kind}: {verdict}"))
        for name, lam in self.multipliers.items():
            arr = np.asarray(lam, dtype=float).ravel()
            big = f"{arr.size} rows, max |λ| {np.abs(arr).max():.6g}" if arr.size else "no rows"
            rows.append((f"λ {name}", f"{arr[0]:.10g}" if arr.size == 1 else big))
        body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
        head = "<thead><tr><th>Solution</th><th></th></tr></thead>"
        return f"<table>{head}<tbody>{body}</tbody></table>"
