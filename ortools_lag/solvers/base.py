"""The solver protocol: name, family, an options schema, availability and a model check.

Options are one pydantic model per solver, serving Python keyword arguments, YAML and the CLI;
unknown options are refused with the list of valid ones.

>>> from ortools_lag.solvers.base import SolverOptions
>>> SolverOptions(time_limit=2.0).time_limit
2.0
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ortools_lag.errors import OptionError

if TYPE_CHECKING:
    from ortools_lag.problem import Problem
    from ortools_lag.result import Solution

__all__ = ["Solver", "SolverOptions", "parse_options"]


class SolverOptions(BaseModel):
    """Options every solver takes.

    Attributes
    ----------
    time_limit
        Wall-clock limit in seconds (``None``: no limit).
    tolerance
        Tolerance of the certificate (relative KKT residuals, or the relative gap).
    verbose
        Let the solver log its progress (through ``logging``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    time_limit: float | None = Field(default=None, gt=0)
    tolerance: float = Field(default=1e-6, gt=0)
    verbose: bool = False


def parse_options(
    solver: str, schema: type[SolverOptions], options: dict[str, Any]
) -> SolverOptions:
    """Validate keyword options against a solver's schema, with an actionable message."""
    try:
        return schema(**options)
    except ValidationError as exc:
        valid = ", ".join(sorted(schema.model_fields))
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                lines.append(f"unknown option {loc!r} for solver {solver!r}")
            else:
                lines.append(
                    f"option {loc!r} of solver {solver!r}: {err['msg']} (got {err.get('input')!r})"
                )
        raise OptionError("; ".join(lines) + f" (valid options: {valid})") from None


class Solver(ABC):
    """A registered solver.

    Subclasses set ``name``, ``family`` (``"backend"``, ``"dual"``, ``"primal-dual"``,
    ``"network"``, ``"structured"``...) and ``Options``, and implement ``solve``.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Options: ClassVar[type[SolverOptions]] = SolverOptions

    def available(self) -> str | None:
        """``None`` when usable, else the reason (and how to install what is missing)."""
        return None

    def check(self, problem: Problem) -> str | None:
        """``None`` when the solver takes this problem, else why not."""
        return None

    @abstractmethod
    def solve(self, problem: Problem, options: SolverOptions) -> Solution:
        """Solve and return a certified Solution."""
