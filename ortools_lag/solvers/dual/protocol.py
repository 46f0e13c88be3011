"""The protocol of the dual methods: common options, a frozen state, ``init``/``step``.

A dual method maximises the concave dual function ``q(lam)`` of a
:class:`~ortools_lag.lagrangian.Lagrangian` (minimisation sense: ``q(lam) <= f*``). It
implements two functions, in the style of optax/jaxopt::

    state = method.init(lagrangian, lam0)      # evaluates q at lam0
    state = method.step(lagrangian, state)     # one iteration: new multipliers, q there

Both return a frozen :class:`DualState` (subclassed by each method for its own fields). The one
loop of :mod:`ortools_lag.solvers.dual.loop` owns everything else: limits, history, primal recovery,
callbacks, interrupts, warm starts and certification. The loop writes the best feasible value
into ``state.best_primal`` (a Polyak target), the method never searches for points.

>>> from ortools_lag import Model
>>> from ortools_lag.lagrangian import Lagrangian
>>> from ortools_lag.solvers.dual.subgradient import SubgradientMethod, SubgradientOptions
>>> m = Model(); x = m.var("x", 2, ub=1)
>>> m.minimize(-x[0] - 2 * x[1]); _ = m.add("cap", x.sum() <= 1)
>>> method = SubgradientMethod(SubgradientOptions(step_rule="constant", step_size=0.5))
>>> lag = Lagrangian(m, relax=["cap"])
>>> s0 = method.init(lag, lag.join({"cap": 0.0}))
>>> s1 = method.step(lag, s0)
>>> s0.bound, s1.lam.tolist(), s1.iteration
(-3.0, [0.5], 2)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import numpy as np
from pydantic import Field, field_validator

from ortools_lag.parallel import EXECUTORS, Executor
from ortools_lag.solvers.base import SolverOptions

if TYPE_CHECKING:
    from ortools_lag.lagrangian import DualPoint, Lagrangian
    from ortools_lag.model import Model
    from ortools_lag.result import KKTReport

__all__ = ["DualMethod", "DualOptions", "DualState", "Progress", "advance", "first_state"]

S = TypeVar("S", bound="DualState")


class DualOptions(SolverOptions):
    """Options every dual method takes (YAML, CLI and keyword arguments alike).

    Attributes
    ----------
    relax, relaxation
        The relaxed groups, or the name of one of the problem's relaxation plans (default: the
        problem's default plan).
    executor, workers, scheduler
        Where the HiGHS blocks run: ``"serial"`` (default), ``"threads"``, ``"processes"``,
        ``"dask"``, a ``dask.distributed.Client``, a scheduler address ``"tcp://host:port"``,
        a mapping ``{kind: dask, address: "tcp://host:port"}`` (the YAML form) or an executor;
        ``scheduler`` is a Dask scheduler address.
    max_iter
        Most evaluations of the dual function.
    gap_limit
        Stop when the relative gap ``(objective - bound) / max(1, |objective|)`` is below this
        (``tolerance`` always stops the run: the gap is closed).
    stall_iter, stall_tolerance
        Stop (``STALLED``) when the bound has not risen by ``stall_tolerance * (1 + |bound|)``
        in ``stall_iter`` iterations (``None``: never).
    callback
        ``callback(progress) -> bool | None`` after every iteration; ``True`` stops the run.
    warm_start
        A previous Solution (its multipliers) or multipliers by group name.
    recovery
        Primal recovery: ``"auto"`` (the problem's heuristic when there is one, the ergodic
        average of the minimisers for continuous models, the minimisers themselves always).
    certify, certify_max_vars, certify_time_limit
        Re-evaluate the bound with HiGHS at the end: ``"auto"`` (up to ``certify_max_vars``
        variables), ``"always"`` or ``"never"``; HiGHS's time limit for it.
    max_blocks, block_options
        Most HiGHS block models (components beyond are merged), and HiGHS options for them.
    """

    relax: list[str] | None = None
    relaxation: str | None = None
    executor: Any = None
    workers: int | None = Field(default=None, ge=1)
    scheduler: str | None = None
    max_iter: int = Field(default=1000, ge=1)
    gap_limit: float | None = Field(default=None, ge=0)
    stall_iter: int | None = Field(default=None, ge=1)
    stall_tolerance: float = Field(default=1e-9, ge=0)
    callback: Callable[..., Any] | None = None
    warm_start: Any = None
    recovery: Literal["auto", "heuristic", "ergodic", "minimiser", "none"] = "auto"
    certify: Literal["auto", "always", "never"] = "auto"
    certify_max_vars: int = Field(default=20000, ge=1)
    certify_time_limit: float | None = Field(default=120.0, gt=0)
    max_blocks: int = Field(default=256, ge=1)
    block_options: dict[str, Any] | None = None

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, value: Any) -> Any:
        """Refuse an executor that :func:`~ortools_lag.parallel.make_executor` would not take,
        here, whether or not the run ends up with blocks to send to it."""
        named = isinstance(value, str) and (value in EXECUTORS or "://" in value)
        client = type(value).__name__ == "Client" and hasattr(value, "gather")
        mapping = isinstance(value, dict) and value.get("kind", "dask") in EXECUTORS
        if value is None or named or client or mapping or isinstance(value, Executor):
            return value
        raise ValueError(
            f"unknown executor (valid choices: {', '.join(EXECUTORS)}, an "
            "ortools_lag.parallel.Executor, a dask.distributed.Client, a scheduler address "
            "'tcp://host:port' or a mapping {kind: dask, address: 'tcp://host:port'})"
        )


@dataclass(frozen=True)
class DualState:
    """What a dual method knows after an iteration (minimisation sense; never mutated).

    Attributes
    ----------
    iteration
        Evaluations of ``q`` so far (``init`` is the first).
    lam
        The current multipliers (flat, projected onto their signs).
    dual_value
        ``q(lam)`` (a proven lower bound on it).
    bound, best_lam
        The best ``q`` so far and its multipliers.
    best_primal
        The best feasible objective known (``inf`` when none); set by the loop.
    step, violation
        The last step size and the norm of the relaxed rows' violation at the minimiser.
    point
        The last evaluation (its minimiser and supergradient).
    primal_estimate
        A primal point the method builds itself (bundle aggregate, ALM iterate), or ``None``.
    converged, stalled, message
        Set by the method when its own criterion is met (``converged``) or when it can make no
        more progress (``stalled``, for example a step factor below its minimum).
    """

    iteration: int
    lam: np.ndarray
    dual_value: float
    bound: float
    best_lam: np.ndarray
    best_primal: float = math.inf
    step: float = math.nan
    violation: float = math.nan
    point: DualPoint | None = None
    primal_estimate: np.ndarray | None = None
    converged: bool = False
    stalled: bool = False
    message: str = ""


def advance(state: S, point: DualPoint, **changes: Any) -> S:
    """The next state after evaluating ``point``: iteration + 1, best bound updated."""
    better = point.lower > state.bound
    return replace(
        state,
        iteration=state.iteration + 1,
        lam=point.lam,
        dual_value=point.lower,
        bound=point.lower if better else state.bound,
        best_lam=point.lam if better else state.best_lam,
        violation=point.violation,
        point=point,
        **changes,
    )


def first_state(cls: type[S], point: DualPoint, **fields: Any) -> S:
    """The state of ``cls`` after the first evaluation ``point`` (iteration 1, its bound the
    best so far); ``fields`` set the method's own."""
    return cls(
        iteration=1,
        lam=point.lam,
        dual_value=point.lower,
        bound=point.lower,
        best_lam=point.lam,
        violation=point.violation,
        point=point,
        **fields,
    )


@dataclass(frozen=True)
class Progress:
    """What a callback sees after each iteration (user's sense).

    Attributes
    ----------
    iteration, bound, objective, gap, seconds
        The best bound, best feasible objective (``nan`` if none), their gap, elapsed time.
    lam
        The current multipliers by group name.
    state
        The method's frozen state.
    """

    iteration: int
    bound: float
    objective: float
    gap: float
    seconds: float
    lam: dict[str, np.ndarray]
    state: DualState


class DualMethod(ABC):
    """A dual method: ``init`` and ``step`` on frozen states.

    Parameters
    ----------
    options
        The method's options (a :class:`DualOptions` subclass).
    """

    name: ClassVar[str] = ""
    #: whether the loop stops as soon as the gap closes (ALM runs to its KKT criterion instead)
    stops_on_gap: ClassVar[bool] = True

    def __init__(self, options: DualOptions) -> None:
        self.options = options

    @abstractmethod
    def init(self, lagrangian: Lagrangian, lam0: np.ndarray) -> DualState:
        """The first state, at the projection of ``lam0``."""

    @abstractmethod
    def step(self, lagrangian: Lagrangian, state: DualState) -> DualState:
        """One iteration from ``state``."""

    def check(self, lagrangian: Lagrangian) -> str | None:
        """``None`` when the method can run on this Lagrangian, else why not."""
        return lagrangian.why_not()

    #: how the loop names the method's own primal estimate
    point_label: ClassVar[str] = "primal estimate"

    def default_relax(self, model: Model) -> tuple[str, ...] | None:
        """The groups relaxed when neither ``relax`` nor a problem plan says (``None``: ask)."""
        return None

    def report_lam(self, state: DualState) -> np.ndarray:
        """The multipliers reported in the Solution (those of the best bound)."""
        return state.best_lam

    def report_point(self, state: DualState) -> tuple[np.ndarray, str] | None:
        """A point that overrides the loop's recovery (``None``: the best one recovered)."""
        return None

    def certificate(
        self, lagrangian: Lagrangian, state: DualState, x: dict[str, np.ndarray] | None
    ) -> KKTReport | None:
        """The method's own certificate (``None``: the loop's re-evaluation of the bound)."""
        return None
