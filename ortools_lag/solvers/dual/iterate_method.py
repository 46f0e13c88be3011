"""Dual methods that carry their own primal iterate: the state and the reports they share.

The augmented Lagrangian method (:mod:`ortools_lag.solvers.dual.alm`) and ADMM
(:mod:`ortools_lag.solvers.dual.admm`) move a primal iterate ``x`` along with the multipliers.
Unlike the pure dual methods they report their *current* multipliers and that iterate (once it has
moved: after the first iteration), certified by :func:`ortools_lag.kkt.certify` at the pair, rather
than the best bound's multipliers and a recovered point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ortools_lag import kkt
from ortools_lag.solvers.dual.protocol import DualMethod, DualState

if TYPE_CHECKING:
    from ortools_lag.lagrangian import Lagrangian
    from ortools_lag.result import KKTReport

__all__ = ["IterateMethod", "IterateState"]

S = TypeVar("S", bound="IterateState")


@dataclass(frozen=True)
class IterateState(DualState):
    """The dual state plus the method's primal iterate ``x`` (``None`` before the first)."""

    x: np.ndarray | None = None


class IterateMethod(DualMethod):
    """A :class:`~ortools_lag.solvers.dual.protocol.DualMethod` reporting its own iterate.

    The method's states are :class:`IterateState`; ``options`` have a ``tolerance``.
    """

    @staticmethod
    def advance(state: S, lam: np.ndarray, q: float, x: np.ndarray, **fields: Any) -> S:
        """The next state: one more iteration at multipliers ``lam`` (dual value ``q``) and
        iterate ``x``, keeping the best bound and its multipliers; ``fields`` set the rest."""
        better = q > state.bound
        return replace(
            state,
            iteration=state.iteration + 1,
            lam=lam,
            dual_value=q,
            bound=q if better else state.bound,
            best_lam=lam if better else state.best_lam,
            x=x,
            primal_estimate=x,
            **fields,
        )

    def report_lam(self, state: DualState) -> np.ndarray:
        """The current multipliers (those that go with the iterate)."""
        return state.lam

    def report_point(self, state: DualState) -> tuple[np.ndarray, str] | None:
        """The iterate, labelled :attr:`point_label`, once the first iteration has moved it."""
        assert isinstance(state, IterateState)
        if state.x is None or state.iteration <= 1:
            return None
        return state.x, self.point_label

    def certificate(
        self, lagrangian: Lagrangian, state: DualState, x: dict[str, np.ndarray] | None
    ) -> KKTReport | None:
        """KKT residuals of the reported point and the current multipliers."""
        if x is None:
            return None
        return kkt.certify(
            lagrangian.model, x, lagrangian.split(state.lam), tol=self.options.tolerance
        )
