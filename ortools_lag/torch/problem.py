r"""A constrained-learning problem on a PyTorch model: an objective and named constraint groups.

.. math::

    \min_\theta\ f(\theta) = \mathbb{E}_{\text{batch}}[\ell(\theta)] \quad\text{s.t.}\quad
    c_g(\theta)\ \{\le, \ge, =\}\ r_g \ \text{ for each group } g,

held in the project's convention: a ``<=`` group as ``g = c - r <= 0``, a ``>=`` group as
``g = r - c <= 0``, an ``==`` group as ``g = c - r == 0``, and the Lagrangian

.. math::

    L(\theta, \lambda) = f(\theta) + \sum_g \langle \lambda_g, g(\theta) \rangle, \qquad
    \lambda_g \ge 0 \text{ on inequalities, free on equalities.}

``lambda_g`` is the price of group ``g``: the rate at which the best objective would fall if
its right-hand side were relaxed by one unit (``-df*/dr`` for ``<=``).

A group's callable returns the constraint's value on a batch: a scalar (one multiplier), a
tensor of a fixed shape (one multiplier per entry) or, for a group declared with ``size=N``,
a pair ``(values, index)`` whose ``index`` picks entries of an indexed multiplier of length
``N`` (per-sample constraints). A non-differentiable constraint (an error rate) takes a
differentiable ``surrogate``: the surrogate drives the primal step, the true value drives the
multiplier and the certificate (proxy constraints).

When ``forward`` is given it is called once per batch and its result passed to the objective
and to every constraint as ``fn(out, batch)``, so the network runs once per step; without it,
each callable takes the batch alone.

>>> import torch
>>> from ortools_lag.torch import ConstrainedProblem
>>> w = torch.zeros(3, requires_grad=True)
>>> p = ConstrainedProblem(lambda b: ((b[0] @ w - b[1]) ** 2).mean())
>>> budget = p.add("budget", lambda b: (w**2).sum(), "<=", 1.0)
>>> budget.violation(torch.tensor(3.0)).item(), budget.equality
(2.0, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch

from ortools_lag.errors import ModelError

__all__ = ["ConstrainedProblem", "ConstraintGroup", "Sense"]

Sense = Literal["<=", ">=", "=="]
_SENSES = ("<=", ">=", "==")


@dataclass(frozen=True)
class ConstraintGroup:
    """One named group ``fn(batch) {<=, >=, ==} rhs`` (see the module docstring).

    Attributes
    ----------
    name
        The group's name (the key of its multiplier).
    fn
        The true constraint value on a batch (``fn(batch)``, or ``fn(out, batch)`` when the
        problem has a ``forward``).
    sense, rhs
        ``"<="``, ``">="`` or ``"=="`` and the right-hand side.
    surrogate
        A differentiable stand-in for ``fn`` in the primal step (``None``: ``fn`` itself).
    size
        The length of an indexed multiplier (``fn`` then returns ``(values, index)``).
    """

    name: str
    fn: Callable[..., Any]
    sense: Sense
    rhs: float
    surrogate: Callable[..., Any] | None = None
    size: int | None = None

    @property
    def equality(self) -> bool:
        """True for an ``==`` group (a free multiplier)."""
        return self.sense == "=="

    def violation(self, value: torch.Tensor) -> torch.Tensor:
        """``g``: ``value - rhs`` (``<=``, ``==``) or ``rhs - value`` (``>=``); met when ``g <= 0``
        (``g == 0`` for an equality)."""
        return self.rhs - value if self.sense == ">=" else value - self.rhs


class ConstrainedProblem:
    """An objective to minimise over a model's parameters and named constraint groups.

    Parameters
    ----------
    objective
        ``objective(batch)`` (or ``objective(out, batch)`` with ``forward``): a scalar tensor.
    forward
        Optional ``forward(batch) -> out``, run once per batch and shared by every callable.
    name
        A name for reports.
    """

    def __init__(
        self,
        objective: Callable[..., torch.Tensor],
        *,
        forward: Callable[[Any], Any] | None = None,
        name: str = "constrained_learning",
    ) -> None:
        if not callable(objective):
            raise ModelError(f"objective must be callable, found {type(objective).__name__}")
        if forward is not None and not callable(forward):
            raise ModelError(f"forward must be callable, found {type(forward).__name__}")
        self.objective = objective
        self.forward = forward
        self.name = name
        self.groups: dict[str, ConstraintGroup] = {}

    def add(
        self,
        name: str,
        fn: Callable[..., Any],
        sense: Sense,
        rhs: float = 0.0,
        *,
        surrogate: Callable[..., Any] | None = None,
        size: int | None = None,
    ) -> ConstraintGroup:
        """Add the group ``fn {sense} rhs`` named ``name`` and return it.

        Raises
        ------
        ModelError
            For a repeated name, an unknown sense (listing the valid ones), a callable that is
            not, a non-finite ``rhs`` or a ``size`` that is not a positive integer.
        """
        if not isinstance(name, str) or not name:
            raise ModelError(f"a group name is a non-empty string, found {name!r}")
        if name in self.groups:
            raise ModelError(f"group {name!r} is already defined")
        if sense not in _SENSES:
            raise ModelError(
                f"group {name!r}: unknown sense {sense!r} (valid choices: {', '.join(_SENSES)})"
            )
        for what, f in (("fn", fn), ("surrogate", surrogate)):
            if f is not None and not callable(f):
                raise ModelError(f"group {name!r}: {what} must be callable")
        try:
            r = float(rhs)
        except (TypeError, ValueError):
            raise ModelError(f"group {name!r}: rhs must be a number, found {rhs!r}") from None
        if r != r or r in (float("inf"), float("-inf")):
            raise ModelError(f"group {name!r}: rhs must be finite, found {rhs!r}")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ModelError(f"group {name!r}: size must be a positive integer, found {size!r}")
        group = ConstraintGroup(name, fn, sense, r, surrogate, size)
        self.groups[name] = group
        return group

    def run(self, batch: Any) -> Any:
        """The shared forward output of ``batch`` (``None`` without ``forward``)."""
        return self.forward(batch) if self.forward is not None else None

    def call(self, fn: Callable[..., Any], out: Any, batch: Any) -> Any:
        """``fn`` on a batch: ``fn(out, batch)`` with a forward, ``fn(batch)`` without."""
        return fn(out, batch) if self.forward is not None else fn(batch)

    def __repr__(self) -> str:
        inner = ", ".join(f"{g.name} {g.sense} {g.rhs:g}" for g in self.groups.values())
        return f"ConstrainedProblem({self.name!r}: {inner})"
