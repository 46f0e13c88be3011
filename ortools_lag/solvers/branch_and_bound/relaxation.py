r"""The Lagrangian bound of one branch-and-bound node: the kept problem under branching bounds.

A node is the kept problem ``X`` of a relaxation plan with the variables' bounds tightened to
``[lb, ub]`` (the branching decisions). Its bound is the dual function of that restriction,

.. math::

    q_{lb,ub}(\lambda) = \min \{ L(x, \lambda) : x \in X,\ lb \le x \le ub \} \le f^*_{lb,ub},

maximised by one of the project's dual methods (:mod:`ortools_lag.solvers.dual`), warm-started
from the parent's multipliers and stopped early once it proves the node worse than the incumbent.

The inner problem is solved two ways. A plan's **oracle that takes a** ``bounds`` **keyword**
(``oracle(lam, bounds={var: (lb, ub)})``) must return a minimiser within the bounds, or the value
``+inf`` when the bounded kept problem has no point (the families of :mod:`ortools_lag.problems`
fix variables by their costs: a forbidden item never pays, a forced one outweighs the rest).
Otherwise the engine's own inner solve runs with the bounds (closed forms and HiGHS blocks,
rebuilt for each node): any Model with a relaxation plan works, at the price of the HiGHS
calls. Either way the value is ``L(x, lam)`` recomputed by :class:`~ortools_lag.lagrangian.
Lagrangian` from the model's own expressions at the returned point.

>>> from ortools_lag import Model
>>> m = Model(); x = m.var("x", 2, ub=1, domain="binary")
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
>>> node = NodeRelaxation(m, ("cap",))
>>> pt = node.evaluate(np.array([0.5]), node.lb0, np.array([1.0, 0.0]))  # x[1] fixed to 0
>>> round(pt.value, 9), pt.x.tolist()
(-1.0, [1.0, 0.0])
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ortools_lag.errors import NotSupportedError
from ortools_lag.lagrangian import Lagrangian

if TYPE_CHECKING:
    from ortools_lag.lagrangian import DualPoint
    from ortools_lag.model import Model
    from ortools_lag.problem import Heuristic, Oracle

__all__ = ["NodeInfeasible", "NodeRelaxation", "takes_bounds"]


class NodeInfeasible(Exception):
    """The kept problem has no point within the node's bounds (the node is pruned)."""


def takes_bounds(oracle: Callable[..., Any] | None) -> bool:
    """Whether an oracle accepts branching bounds (a ``bounds`` keyword).

    >>> takes_bounds(lambda lam, bounds=None: ({}, 0.0)), takes_bounds(lambda lam: ({}, 0.0))
    (True, False)
    """
    if oracle is None:
        return False
    try:
        return "bounds" in inspect.signature(oracle).parameters
    except (TypeError, ValueError):
        return False


class _BoundedOracle:
    """The plan's oracle, called with the current node's bounds by variable name."""

    def __init__(self, oracle: Callable[..., Any]) -> None:
        self.oracle = oracle
        self.bounds: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def __call__(self, lam: Mapping[str, np.ndarray]) -> tuple[Mapping[str, Any], float]:
        xs, value = self.oracle(lam, bounds=self.bounds)
        if value == math.inf:
            raise NodeInfeasible("the oracle found no point within the node's bounds")
        return xs, value


class NodeRelaxation:
    """The relaxation plan of a model, evaluated under any node's bounds.

    Parameters
    ----------
    model
        The model (its integer variables are branched on).
    relax
        The relaxed groups.
    oracle
        The plan's oracle (used when it takes ``bounds``; else the engine's inner solve).
    heuristic
        The plan's Lagrangian heuristic (``None``: none).
    block_options
        HiGHS options of the engine's blocks.

    Attributes
    ----------
    lag
        The Lagrangian of the plan (shapes, values, multipliers' signs); with a bounded oracle
        it also evaluates every node.
    lb0, ub0
        The model's bounds (integer variables' rounded inwards), the root node's.
    """

    def __init__(
        self,
        model: Model,
        relax: tuple[str, ...],
        oracle: Oracle | None = None,
        heuristic: Heuristic | None = None,
        *,
        block_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.relax = relax
        self._bounded = (
            _BoundedOracle(oracle) if oracle is not None and takes_bounds(oracle) else None
        )
        self.block_options = dict(block_options or {})
        self.lag = Lagrangian(
            model,
            relax,
            self._bounded,
            heuristic=heuristic,
            block_options=self.block_options,
        )
        self.lb0, self.ub0 = self.lag.lb.copy(), self.lag.ub.copy()
        self._engine: tuple[bytes, Lagrangian] | None = None

    @property
    def inner(self) -> str:
        """How a node's inner problem is solved, for reports."""
        return "oracle with bounds" if self._bounded is not None else "engine (HiGHS blocks)"

    def why_not(self) -> str | None:
        """``None`` when every node can be evaluated, else the reason."""
        if self._bounded is not None:
            return None
        probe = Lagrangian(self.model, self.relax)
        try:
            return probe.why_not()
        finally:
            probe.close()

    def _lagrangian(self, lb: np.ndarray, ub: np.ndarray) -> Lagrangian:
        """The Lagrangian that evaluates the node ``[lb, ub]``."""
        if self._bounded is not None:
            self._bounded.bounds = {
                name: (
                    lb[v.offset : v.offset + v.size].reshape(v.shape),
                    ub[v.offset : v.offset + v.size].reshape(v.shape),
                )
                for name, v in self.model.variables.items()
            }
            return self.lag
        key = lb.tobytes() + ub.tobytes()
        if self._engine is None or self._engine[0] != key:
            self.close_engine()
            lag = Lagrangian(self.model, self.relax, block_options=self.block_options)
            lag.lb, lag.ub = lb.copy(), ub.copy()  # the blocks are built with these bounds
            self._engine = (key, lag)
        return self._engine[1]

    def evaluate(self, lam: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> DualPoint:
        """``q_{lb,ub}(lam)`` and its minimiser (minimisation sense).

        Raises
        ------
        NodeInfeasible
            When the kept problem has no point within ``[lb, ub]``.
        NotSupportedError
            When a bounded oracle returns a point outside the bounds.
        """
        lag = self._lagrangian(lb, ub)
        pt = lag.evaluate(lam)
        if pt.status == "infeasible":
            raise NodeInfeasible("the kept problem has no point within the node's bounds")
        if self._bounded is not None:
            tol = 1e-9 * (1.0 + np.abs(pt.x))
            if np.any(pt.x < lb - tol) or np.any(pt.x > ub + tol):
                raise NotSupportedError(
                    "the relaxation's oracle returned a point outside the branching bounds "
                    "(an oracle taking bounds must respect them or return +inf)"
                )
        return pt

    def stepper(self, lb: np.ndarray, ub: np.ndarray) -> Lagrangian:
        """A Lagrangian-like object whose ``evaluate`` is this node's (for the dual methods)."""
        return _NodeView(self, lb, ub)  # type: ignore[return-value]

    def close_engine(self) -> None:
        """Release the engine's blocks of the last node."""
        if self._engine is not None:
            self._engine[1].close()
            self._engine = None

    def close(self) -> None:
        """Release every HiGHS block."""
        self.close_engine()
        self.lag.close()


class _NodeView:
    """What a :class:`~ortools_lag.solvers.dual.protocol.DualMethod` sees of a node: the plan's
    Lagrangian (signs, shapes, sense) with ``evaluate`` restricted to the node's bounds."""

    def __init__(self, node: NodeRelaxation, lb: np.ndarray, ub: np.ndarray) -> None:
        self._node, self._lb, self._ub = node, lb, ub

    def evaluate(self, lam: np.ndarray) -> DualPoint:
        return self._node.evaluate(self._node.lag.project(lam), self._lb, self._ub)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node.lag, name)
