"""A :class:`Problem`: a model, its named relaxation plans, and how to decode an answer.

An oracle minimises the Lagrangian over the kept constraints for given multipliers; a
heuristic repairs a relaxed point into a feasible one.

>>> from ortools_lag import Model, Problem, Relaxation
>>> m = Model(); x = m.var("x", 2, ub=1); m.minimize(x.sum()); _ = m.add("cover", x.sum() >= 1)
>>> p = Problem(m, relaxations={"lr": Relaxation(relax=("cover",))}, default_relaxation="lr")
>>> p.relaxation().relax
('cover',)

A structured family may defer the model: ``Problem(build_model=f, n_vars=k, ...)`` calls ``f``
on the first read of ``problem.model`` (a generic solver, ``explain``, the CLI summary) and
keeps what it returns; its structured solvers work on ``problem.data`` and never build it.

>>> lazy = Problem(build_model=lambda: m, n_vars=2)
>>> lazy.model_built, lazy.num_vars, lazy.model is m, lazy.model_built
(False, 2, True, True)
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
        The statement of the problem (built on first access when ``build_model`` is given).
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
    build_model
        Builds ``model`` on first access, when the Problem was made without one (a structured
        family whose own solvers read only ``data``).
    n_vars
        The number of variables, known without building the model (``None``: read the model).
    """

    model: Model = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    relaxations: Mapping[str, Relaxation] = field(default_factory=dict)
    default_relaxation: str | None = None
    decode: Callable[[Solution], Any] | None = None
    kind: str = "model"
    default_solver: str | None = None
    data: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    build_model: Callable[[], Model] | None = field(default=None, repr=False, compare=False)
    n_vars: int | None = None

    def __post_init__(self) -> None:
        if self.__dict__.get("_model") is None and self.build_model is None:
            raise ModelError("a Problem needs a model, or build_model to build it on demand")
        if self.model_built:
            self._validate()

    @property
    def model_built(self) -> bool:
        """Whether the model exists yet (always, unless it is built on demand)."""
        return self.__dict__.get("_model") is not None

    @property
    def num_vars(self) -> int:
        """The number of variables, without building a deferred model when ``n_vars`` says."""
        if not self.model_built and self.n_vars is not None:
            return int(self.n_vars)
        return int(self.model.n)

    def _validate(self) -> None:
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


def _get_model(self: Problem) -> Model:
    model = self.__dict__.get("_model")
    if model is None:
        if self.build_model is None:
            raise ModelError("this Problem has no model and no build_model to make one")
        model = self.build_model()
        self.__dict__["_model"] = model
        self._validate()
    return model


def _set_model(self: Problem, model: Model | None) -> None:
    self.__dict__["_model"] = model


# ``model`` is a dataclass field (``Problem(m)``, ``Problem(model=m)``) read through a property
# that builds a deferred model on first access.
Problem.model = property(_get_model, _set_model)  # type: ignore[assignment]


def as_problem(obj: Model | Problem) -> Problem:
    """Wrap a Model into a Problem; pass a Problem through."""
    from ortools_lag.model import Model

    if isinstance(obj, Problem):
        return obj
    if isinstance(obj, Model):
        return Problem(obj)
    raise ModelError(f"expected a Model or a Problem, got {type(obj).__name__}")
