"""The :class:`Model`: variable blocks, one objective, named constraint groups.

The model states a problem; it holds no solver state and never receives results.

>>> from ortools_lag import Model
>>> m = Model("diet")
>>> x = m.var("x", 2)
>>> m.minimize(3 * x[0] + 2 * x[1])
>>> _ = m.add("demand", x.sum() >= 4)
>>> m.n, list(m.groups), m.sense
(2, ['demand'], 'min')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from ortools_lag.errors import ModelError
from ortools_lag.model.expressions import AffineExpr, Constraint, Expr, as_expr
from ortools_lag.model.stacking import concatenate
from ortools_lag.model.variables import Var

__all__ = ["Model"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

MAX_BLOCK_ENTRIES = 2_000_000_000
"""The largest variable block :meth:`Model.var` accepts (entries); larger shapes are refused
before anything is allocated (raise it here for a machine that can hold more)."""


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ModelError(
            f"{what} name {name!r} is not valid: use letters, digits, '_', '.', '-' "
            "and start with a letter or '_'"
        )


def _shape(name: str, shape: Any) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints, refused with a :class:`ModelError` otherwise."""
    parts = (shape,) if isinstance(shape, (int, np.integer)) else shape
    if isinstance(parts, (str, bytes)) or not isinstance(parts, Iterable):
        raise ModelError(
            f"variable {name!r}: shape must be an int or a tuple of ints, not {shape!r}"
        )
    parts = tuple(parts)
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in parts):
        raise ModelError(f"variable {name!r}: shape {shape!r} must hold ints only")
    shp = tuple(int(s) for s in parts)
    if any(s < 0 for s in shp):
        raise ModelError(f"variable {name!r}: negative dimension in shape {shp}")
    size = 1
    for s in shp:
        size *= s
    if size > MAX_BLOCK_ENTRIES:
        raise ModelError(
            f"variable {name!r}: shape {shp} has {size} entries "
            f"(the limit is {MAX_BLOCK_ENTRIES}, ortools_lag.model.model.MAX_BLOCK_ENTRIES)"
        )
    return shp


class Model:
    """An optimisation model with named variable blocks and named constraint groups.

    Parameters
    ----------
    name
        A label for reports.
    """

    def __init__(self, name: str = "model") -> None:
        self.name = name
        self.variables: dict[str, Var] = {}
        self.groups: dict[str, Constraint] = {}
        self.group_labels: dict[str, list[str]] = {}
        self.objective: Expr = AffineExpr({}, np.zeros(1), ())
        self.sense = "min"
        self.version = 0

    # -- building ---------------------------------------------------------------------------
    def var(
        self,
        name: str,
        shape: int | Iterable[int] = (),
        lb: Any = 0.0,
        ub: Any = None,
        domain: str = "continuous",
        labels: list[str] | None = None,
        integer_mask: Any = None,
    ) -> Var:
        """Add a block of variables (``lb=None`` means no lower bound).

        Returns
        -------
        Var
            The block, usable in expressions.
        """
        _check_name(name, "variable")
        if name in self.variables:
            raise ModelError(f"variable {name!r} already exists in model {self.name!r}")
        shp = _shape(name, shape)
        mask = None if integer_mask is None else np.asarray(integer_mask, dtype=bool)
        v = Var(name, shp, lb, ub, domain, self.n, labels, mask)
        self.variables[name] = v
        self.version += 1
        return v

    def minimize(self, expr: Any) -> None:
        """Set the objective to minimise (a scalar expression)."""
        self._set_objective(expr, "min")

    def maximize(self, expr: Any) -> None:
        """Set the objective to maximise; it is held as the minimisation of ``-expr``."""
        self._set_objective(expr, "max")

    def _set_objective(self, expr: Any, sense: str) -> None:
        e = as_expr(expr)
        if e.size != 1:
            raise ModelError(f"the objective must be a scalar, got shape {e.shape}")
        self._check_owned(e, "objective")
        self.objective = e.reshape(()) if e.shape != () else e
        self.sense = sense
        self.version += 1

    def add(
        self,
        name: str,
        constraint: Constraint | Expr | Iterable[Constraint],
        lb: Any = None,
        ub: Any = None,
        labels: list[str] | None = None,
    ) -> Constraint:
        """Add a named group of constraints.

        Parameters
        ----------
        name
            The group's name: its multipliers are reported under it.
        constraint
            A constraint (``e <= r``, ``e >= r``, ``e == r``, ``e.between(lo, hi)``), a list of
            constraints of one sense (stacked into one group), or an expression with ``lb``/``ub``.
        """
        _check_name(name, "constraint group")
        if name in self.groups:
            raise ModelError(f"constraint group {name!r} already exists in model {self.name!r}")
        if isinstance(constraint, Expr):
            con = Constraint.ranged(constraint, lb, ub)
        elif isinstance(constraint, Constraint):
            con = constraint
        elif (
            isinstance(constraint, (bool, np.bool_))
            or not isinstance(constraint, Iterable)
            or (isinstance(constraint, np.ndarray) and constraint.ndim == 0)  # not iterable
        ):
            raise ModelError(
                f"group {name!r}: expected a constraint such as x.sum() <= 4, got "
                f"{type(constraint).__name__} {constraint!r} (a comparison of constants "
                "is evaluated by Python before the model sees it)"
            )
        else:
            con = self._stack(name, list(constraint))
        self._check_owned(con.body, f"group {name!r}")
        self.groups[name] = con
        if labels is not None:
            self.group_labels[name] = labels
        self.version += 1
        return con

    @staticmethod
    def _stack(name: str, parts: list[Constraint]) -> Constraint:
        if not parts or not all(isinstance(p, Constraint) for p in parts):
            raise ModelError(f"group {name!r}: expected a constraint or a list of constraints")
        senses = {p.sense for p in parts}
        if len(senses) > 1:
            raise ModelError(f"group {name!r} mixes senses {sorted(senses)}: use one per group")
        body = concatenate([p.body.flatten() for p in parts])
        lo = np.concatenate([p.lo for p in parts])
        hi = np.concatenate([p.hi for p in parts])
        return Constraint(body, lo, hi, senses.pop())

    def _check_owned(self, e: Expr, where: str) -> None:
        for v in e.variables():
            if self.variables.get(v.name) is not v:
                raise ModelError(f"{where} uses variable {v.name!r} of another model")

    # -- reading ----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Total number of scalar variables."""
        return sum(v.size for v in self.variables.values())

    @property
    def m(self) -> int:
        """Total number of scalar constraints."""
        return sum(g.size for g in self.groups.values())

    @property
    def sense_sign(self) -> int:
        """+1 for a minimisation, -1 for a maximisation."""
        return 1 if self.sense == "min" else -1

    @property
    def is_integer(self) -> bool:
        """True when some variable is integer or binary."""
        return any(v.is_integer for v in self.variables.values())

    @property
    def degree(self) -> int:
        """Largest degree among the objective (counted as 2 at most for QP) and constraints."""
        return max([self.objective.degree] + [g.body.degree for g in self.groups.values()])

    @property
    def is_linear(self) -> bool:
        """True for LP/MILP models."""
        return self.degree <= 1

    @property
    def has_linear_constraints(self) -> bool:
        """True when every group is affine."""
        return all(g.body.degree <= 1 for g in self.groups.values())

    def lower_bounds(self) -> np.ndarray:
        """Global vector of lower bounds."""
        return _cat([v.lb.ravel() for v in self.variables.values()])

    def upper_bounds(self) -> np.ndarray:
        """Global vector of upper bounds."""
        return _cat([v.ub.ravel() for v in self.variables.values()])

    def integrality(self) -> np.ndarray:
        """Global boolean vector: True for integer entries."""
        return _cat([v.integer_mask.ravel() for v in self.variables.values()]).astype(bool)

    def split(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Cut a global vector into arrays by variable name."""
        return {
            name: np.asarray(z[v.offset : v.offset + v.size]).reshape(v.shape)
            for name, v in self.variables.items()
        }

    def join(self, values: dict[str, Any]) -> np.ndarray:
        """Assemble a global vector from arrays by variable name (missing names raise)."""
        z = np.zeros(self.n)
        for name, v in self.variables.items():
            if name not in values:
                raise ModelError(f"no value for variable {name!r}")
            try:
                z[v.offset : v.offset + v.size] = np.broadcast_to(
                    np.asarray(values[name], dtype=float), v.shape
                ).ravel()
            except ValueError as exc:
                raise ModelError(f"value for {name!r} does not have shape {v.shape}") from exc
        return z

    def objective_value(self, z: np.ndarray) -> float:
        """The objective in the user's sense at the global vector ``z``."""
        return float(self.objective.value(z)[0])

    def __repr__(self) -> str:
        return (
            f"Model({self.name!r}: {self.sense}, {self.n} variables in {len(self.variables)} "
            f"blocks, {self.m} constraints in {len(self.groups)} groups)"
        )

    def _repr_html_(self) -> str:
        """The model as a small HTML table (notebooks): one row per block and per group.

        >>> m = Model("diet"); x = m.var("x", 2); _ = m.add("demand", x.sum() >= 4)
        >>> "<td>demand</td><td>&gt;=</td><td>1</td>" in m._repr_html_()
        True
        """
        from html import escape

        rows = [
            f"<tr><td>variable</td><td>{escape(v.name)}</td><td>{escape(v.domain)}</td>"
            f"<td>{v.size}</td></tr>"
            for v in self.variables.values()
        ] + [
            f"<tr><td>group</td><td>{escape(k)}</td><td>{escape(g.sense)}</td><td>{g.size}</td></tr>"
            for k, g in self.groups.items()
        ]
        return (
            f"<table><caption>{escape(repr(self))}</caption><thead><tr><th>what</th>"
            "<th>name</th><th>domain or sense</th><th>entries or rows</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)
