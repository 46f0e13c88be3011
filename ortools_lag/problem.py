"""A :class:`Problem`: a model, its named relaxation plans, and how to decode an answer.

An oracle minimises the Lagrangian over the kept constraints for given multipliers; a
heuristic repairs a relaxed point into a feasible one.

>>> from ortools_lag import Model, Problem, Relaxation
>>> m = Model(); x = m.var("x", 2, ub=1); m.minimize(x.sum()); _ = m.add("cover", x.sum() >= 1)
>>> p = Problem(m, relaxations={"lr": Relaxation(relax=("cover",))}, default_relaxation="lr")
>>> p.relaxation().relax
('cover',)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ortools_lag.errors import ModelError

if TYPE_CHECKING:
    from ortools_lag.model import Model
    from ortools_lag.result import Solution

__all__ = ["Heuristic", "Oracle", "OracleResult", "Problem", "Relaxation"]

#: An oracle takes the multipliers by relaxed-group name and returns the minimiser of the
#: Lagrangian over the kept constraints (values by variable name) and the Lagrangian value there.
OracleResult = tuple[Mapping[str, np.ndarray], float]
Oracle = Callable[[Mapping[str, np.ndarray]], OracleResult]
#: A heuristic takes a relaxed point (values by variable name) and returns a feasible point or None.
Heuristic = Callable[[Mapping[str, np.ndarray]], "Mapping[str, np.ndarray] | None"]


@dataclass(frozen=True)
class Relaxation:
    """A relaxation plan: which groups become multipliers, and optional structure.

    Attributes
    ----------
    relax
        Names of the constraint groups moved into the Lagrangian.
    oracle
        Structured minimiser of the Lagrangian (else the engine solves the kept model).
    heuristic
        Lagrangian heuristic turning a relaxed point into a feasible one.
    description
        One line for reports.
    """

    relax: tuple[str, ...]
    oracle: Oracle | None = None
    heuristic: Heuristic | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.relax, str):
            object.__setattr__(self, "relax", (self.relax,))
        else:
            object.__setattr__(self, "relax", tuple(self.relax))


@dataclass
class Problem:
    """A model plus relaxation plans, a decoder and family metadata.

    Attributes
    ----------
    model
        The statement of the problem.
    relaxations
        Named relaxation plans.
    default_relaxation
        The plan dual methods use when ``relax`` is not given.
    decode
        Turns a Solution into the domain answer (path, tour, predictor...).
    kind
        The problem family (``"model"`` for a plain model).
    default_solver
        The solver ``solve(problem)`` uses with ``solver="auto"`` (``None``: chosen by the model).
    data
        Family data the structured solvers use (arrays, graph).
    metadata
        Facts such as the known optimum and its source.
    """

    model: Model
    relaxations: Mapping[str, Relaxation] = field(default_factory=dict)
    default_relaxation: str | None = None
    decode: Callable[[Solution], Any] | None = None
    kind: str = "model"
    default_solver: str | None = None
    data: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, rel in self.relaxations.items():
            missing = [g for g in rel.relax if g not in self.model.groups]
            if missing:
                raise ModelError(
                    f"relaxation {name!r} relaxes unknown group(s) {missing} "
                    f"(groups: {', '.join(self.model.groups) or 'none'})"
                )
        if self.default_relaxation is not None and self.default_relaxation not in self.relaxations:
            raise ModelError(
                f"default_relaxation {self.default_relaxation!r} is not one of "
                f"{sorted(self.relaxations)}"
            )

    def relaxation(self, name: str | None = None) -> Relaxation:
        """The named relaxation, or the default one."""
        key = name if name is not None else self.default_relaxation
        if key is None:
            raise ModelError("this problem has no default relaxation: pass relax=[group, ...]")
        if key not in self.relaxations:
            raise ModelError(
                f"unknown relaxation {key!r} (valid choices: {sorted(self.relaxations)})"
            )
        return self.relaxations[key]


def as_problem(obj: Model | Problem) -> Problem:
    """Wrap a Model into a Problem; pass a Problem through."""
    from ortools_lag.model import Model

    if isinstance(obj, Problem):
        return obj
    if isinstance(obj, Model):
        return Problem(obj)
    raise ModelError(f"expected a Model or a Problem, got {type(obj).__name__}")
