"""The one hierarchy of errors raised by ortools_lag.

Bad input raises; infeasible and unbounded problems do not (they are statuses).

>>> from ortools_lag.errors import SpecError
>>> str(SpecError("missing field", file="p.yaml", line=3, field="solver.name"))
'p.yaml:3: solver.name: missing field'
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BackendUnavailableError",
    "ModelError",
    "NotSupportedError",
    "OptionError",
    "OrtoolsLagError",
    "SpecError",
    "UnknownSolverError",
]


class OrtoolsLagError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class ModelError(OrtoolsLagError, ValueError):
    """A malformed model: bad shapes, NaN coefficients, ``lb > ub``, unknown names."""


class SpecError(OrtoolsLagError, ValueError):
    """Bad input from a file: names the file, line, column and field when known.

    Parameters
    ----------
    message
        What was expected and what was found.
    file, line, column, field
        Where the problem is; each is optional.
    choices
        The valid choices, listed in the message when given.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        choices: Iterable[str] | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.choices = tuple(choices) if choices is not None else None
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        text = f"{where}{field}{self.reason}"
        if self.choices:
            text += f" (valid choices: {', '.join(self.choices)})"
        return text


class UnknownSolverError(OrtoolsLagError, ValueError):
    """A solver name that is not registered; the message lists the valid names."""


class OptionError(OrtoolsLagError, ValueError):
    """An option a solver does not take, or a value of the wrong type."""


class BackendUnavailableError(OrtoolsLagError, RuntimeError):
    """A backend whose package or executable is not installed; says how to get it."""


class NotSupportedError(OrtoolsLagError, ValueError):
    """A model the chosen solver cannot take; the message says why."""
