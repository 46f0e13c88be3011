"""The schema of YAML problem files and solver presets (pydantic models, ``schema_version: 1``).

A problem file states the problem *and* its relaxation plan::

    schema_version: 1
    kind: model                  # or a library kind (tsp, gap, ...) or mps
    name: reddy_mikks
    variables:
      x: {shape: 2, lb: 0}
    parameters:
      c: [5, 4]
    maximize: c @ x
    constraints:
      m1: 6*x[0] + 4*x[1] <= 24
      m2: {expr: "x[0] + 2*x[1] <= 6", relax: true}
    solver: {name: highs}       # or a name, or {preset: polyak}
    expect: {objective: 21, source: "hand derivation ..."}

A library kind takes ``instance:`` (a path relative to the YAML file) plus ``options:`` (its
reader's keyword arguments), or inline ``data:`` (its builder's keyword arguments), and an
optional ``relaxation:`` naming one of its relaxation plans. The short forms (a string for a
constraint or the solver, a bare number or list for a parameter) are normalised by
:func:`normalise` before validation. Unknown fields are refused with the valid ones.

>>> doc = {"schema_version": 1, "kind": "model", "variables": {"x": {"shape": 2}},
...        "minimize": "sum(x)", "constraints": {"c": "x[0] + x[1] >= 1"}}
>>> spec = ModelFile.model_validate(normalise(doc))
>>> spec.constraints["c"].expr, spec.constraints["c"].relax
('x[0] + x[1] >= 1', False)
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "ConstraintSpec",
    "ExpectSpec",
    "FileBase",
    "LibraryFile",
    "ModelFile",
    "ParameterSpec",
    "PresetFile",
    "SolverSection",
    "VariableSpec",
    "check_fields",
    "describe_errors",
    "normalise",
]

SCHEMA_VERSION = 1
STATUSES = (
    "optimal",
    "locally_optimal",
    "feasible",
    "infeasible",
    "unbounded",
    "infeasible_or_unbounded",
    "no_solution",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class VariableSpec(_Strict):
    """A block of variables.

    Attributes
    ----------
    shape
        An integer, a list of integers, or names of integer parameters (``[m, n]``).
    lb, ub
        Bounds: a number, a list, a parameter name or an expression of parameters
        (``-inf``, ``2 * cap``); ``null`` for no bound. Defaults: ``lb = 0``, no ``ub``.
    domain
        ``continuous``, ``integer`` or ``binary``.
    labels
        Optional names of the entries (C order), for reports.
    """

    shape: int | str | list[int | str] = Field(default_factory=list)
    lb: Any = 0.0
    ub: Any = None
    domain: Literal["continuous", "integer", "binary"] = "continuous"
    labels: list[str] | None = None
    description: str = ""


class ParameterSpec(_Strict):
    """A constant array: inline ``value`` or a ``file`` (CSV or ``.npy``) beside the YAML file.

    Attributes
    ----------
    value
        A number or a (nested, rectangular) list of numbers.
    file
        Path relative to the YAML file: ``.csv``/``.txt`` (``numpy.loadtxt``) or ``.npy``.
    delimiter, skip_header
        CSV reading options (default ``,`` and 0).
    shape
        The expected shape: checked when given.
    """

    value: Any = None
    file: str | None = None
    delimiter: str = ","
    skip_header: int = Field(default=0, ge=0)
    shape: list[int] | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> ParameterSpec:
        if (self.value is None) == (self.file is None):
            raise ValueError("give exactly one of 'value' and 'file'")
        return self


class ConstraintSpec(_Strict):
    """A named constraint group.

    Attributes
    ----------
    expr
        A comparison: ``A @ x <= b``, ``x.sum() == 1`` is written ``sum(x) == 1``, and a two-sided
        group ``lo <= e <= hi``.
    relax
        Move the group into the Lagrangian in the file's default relaxation plan.
    """

    expr: str
    relax: bool = False
    labels: list[str] | None = None
    description: str = ""


class SolverSection(_Strict):
    """The solver: a registered ``name`` or a ``preset`` (a file or a preset name).

    ``options`` are validated by the solver's own options schema; with a preset they are
    applied on top of the preset's options.
    """

    name: str | None = None
    preset: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_solver(self) -> SolverSection:
        if self.name is not None and self.preset is not None:
            raise ValueError("give either 'name' or 'preset', not both")
        return self


class ExpectSpec(_Strict):
    """The known answer a file records, checked by the tests; ``source`` must cite it.

    Attributes
    ----------
    status
        The expected status.
    objective, bound
        Expected objective and bound (user's sense), within ``rel_tol``/``abs_tol``.
    bound_at_most, bound_at_least
        One-sided checks of a bound (a relaxation's bound below a known optimum, say).
    multipliers
        Expected multipliers by group (a number or a list in the group's shape), in the
        sign convention of the README.
    source
        Where the numbers come from: a MANIFEST.md row, a paper, a hand derivation.
    """

    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    objective: float | None = None
    bound: float | None = None
    bound_at_most: float | None = None
    bound_at_least: float | None = None
    multipliers: dict[str, float | list[Any]] | None = None
    rel_tol: float = Field(default=1e-6, ge=0)
    abs_tol: float = Field(default=1e-6, ge=0)
    source: str = Field(min_length=3)

    def check(
        self,
        status: str,
        objective: float,
        bound: float,
        multipliers: dict[str, Any] | None = None,
    ) -> list[str]:
        """The expectations a solve's result misses (empty when it agrees).

        >>> e = ExpectSpec(objective=21, multipliers={"m1": 0.75}, source="hand")
        >>> e.check("optimal", 21.0, 21.0, {"m1": 0.75}), e.check("optimal", 20.0, 21.0, {})
        ([], ['objective 20 (expected 21)', 'multipliers of m1 missing'])
        """
        out = []
        if self.status is not None and status != self.status:
            out.append(f"status {status} (expected {self.status})")
        for what, want, got in (
            ("objective", self.objective, objective),
            ("bound", self.bound, bound),
        ):
            if want is not None and not self._close(got, want):
                out.append(f"{what} {got:.10g} (expected {want:.10g})")
        slack = self.abs_tol + self.rel_tol * abs(bound if math.isfinite(bound) else 0.0)
        if self.bound_at_most is not None and not bound <= self.bound_at_most + slack:
            out.append(f"bound {bound:.10g} (expected <= {self.bound_at_most:.10g})")
        if self.bound_at_least is not None and not bound >= self.bound_at_least - slack:
            out.append(f"bound {bound:.10g} (expected >= {self.bound_at_least:.10g})")
        for group, want_lam in (self.multipliers or {}).items():
            got_lam = (multipliers or {}).get(group)
            if got_lam is None:
                out.append(f"multipliers of {group} missing")
            elif not self._close_arrays(got_lam, want_lam):
                out.append(f"multipliers of {group} {got_lam} (expected {want_lam})")
        return out

    def _close_arrays(self, got: Any, want: Any) -> bool:
        import numpy as np

        try:
            g = np.asarray(got, dtype=float)
            w = np.asarray(want, dtype=float)
            return g.size == w.size and bool(
                np.all(np.abs(g.ravel() - w.ravel()) <= self.abs_tol + self.rel_tol * np.abs(w))
            )
        except (TypeError, ValueError):
            return False

    def _close(self, got: float, want: float) -> bool:
        if math.isinf(want):
            return got == want
        return math.isfinite(got) and abs(got - want) <= self.abs_tol + self.rel_tol * abs(want)


class FileBase(_Strict):
    """Fields every problem file has (``tags: [slow]`` marks a file the quick tests skip)."""

    schema_version: Literal[1]
    kind: str
    name: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    solver: SolverSection | None = None
    expect: ExpectSpec | None = None


class ModelFile(FileBase):
    """``kind: model``: variables, parameters, one of ``minimize``/``maximize``, constraints."""

    kind: Literal["model"]
    variables: dict[str, VariableSpec] = Field(min_length=1)
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    minimize: str | None = None
    maximize: str | None = None
    constraints: dict[str, ConstraintSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_objective(self) -> ModelFile:
        if (self.minimize is None) == (self.maximize is None):
            raise ValueError("give exactly one of 'minimize' and 'maximize'")
        return self


class LibraryFile(FileBase):
    """A library kind (or ``mps``: an MPS or LP file): ``instance`` + ``options``, or inline
    ``data``. ``relax`` names groups, or ``fnmatch`` patterns over group or row names
    (``["cap_*"]``), forming the default relaxation plan ``relax``."""

    instance: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] | None = None
    relaxation: str | None = None
    relax: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> LibraryFile:
        if (self.instance is None) == (self.data is None):
            raise ValueError("give exactly one of 'instance' (a file) and 'data' (inline)")
        if self.data is not None and self.options:
            raise ValueError("'options' are the reader's: they go with 'instance', not 'data'")
        if self.relax is not None and self.relaxation is not None:
            raise ValueError("give one of 'relax' (groups or patterns) and 'relaxation' (a plan)")
        return self


class PresetFile(_Strict):
    """A solver preset (``ortools_lag/presets/*.yaml``, or a user's ``solvers/`` folder)."""

    schema_version: Literal[1]
    name: str
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """Expand the short forms: ``solver: highs``, ``c: "x <= 1"``, ``p: [1, 2]``.

    >>> normalise({"solver": "highs", "constraints": {"c": "x <= 1"}})["solver"]
    {'name': 'highs'}
    """
    out = dict(doc)
    if isinstance(out.get("solver"), str):
        out["solver"] = {"name": out["solver"]}
    if isinstance(out.get("constraints"), dict):
        out["constraints"] = {
            k: {"expr": v} if isinstance(v, str) else v for k, v in out["constraints"].items()
        }
    if isinstance(out.get("parameters"), dict):
        out["parameters"] = {
            k: v if isinstance(v, dict) else {"value": v} for k, v in out["parameters"].items()
        }
    return out


def _model_of(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """``("one", M)`` for a model field, ``("map", M)`` for ``dict[str, M]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "one", annotation
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict and len(args) == 2:
        inner = _model_of(args[1])
        return ("map", inner[1]) if inner and inner[0] == "one" else None
    for arg in args:  # Optional[M]
        inner = _model_of(arg)
        if inner is not None and inner[0] == "one":
            return inner
    return None


def check_fields(
    data: Any, model: type[BaseModel], path: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], str, list[str]]]:
    """Unknown keys in ``data`` for ``model``, recursively: (path, key, valid keys).

    >>> check_fields({"kind": "model", "solver": {"nam": "highs"}}, FileBase)
    [(('solver', 'nam'), 'nam', ['name', 'options', 'preset'])]
    """
    out: list[tuple[tuple[str | int, ...], str, list[str]]] = []
    if not isinstance(data, dict):
        return out
    fields = model.model_fields
    for key, value in data.items():
        if key not in fields:
            out.append(((*path, key), str(key), sorted(fields)))
            continue
        sub = _model_of(fields[key].annotation)
        if sub is None:
            continue
        how, inner = sub
        if how == "one":
            out.extend(check_fields(value, inner, (*path, key)))
        elif isinstance(value, dict):
            for k, v in value.items():
                out.extend(check_fields(v, inner, (*path, key, k)))
    return out


_EXPECTED: dict[str, str] = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "null",
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _clean_loc(loc: tuple[Any, ...], data: Any, missing: bool) -> tuple[str | int, ...]:
    """Drop pydantic's union tags from ``loc``: keep the keys that exist in ``data``."""
    out: list[str | int] = []
    cur = data
    for i, seg in enumerate(loc):
        if isinstance(cur, dict) and seg in cur:
            out.append(seg)
            cur = cur[seg]
        elif isinstance(cur, list) and isinstance(seg, int) and 0 <= seg < len(cur):
            out.append(seg)
            cur = cur[seg]
        elif missing and i == len(loc) - 1 and isinstance(seg, str):
            out.append(seg)
    return tuple(out)


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "missing":
        return "this field is required"
    if kind == "literal_error":
        return f"expected {err['ctx']['expected']}, found {_short(err.get('input'))}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, found {_short(err.get('input'))}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{msg[0].lower()}{msg[1:]}" if msg else kind


def describe_errors(errors: list[Any], data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Turn pydantic errors into ``(field path, message)`` pairs, one per field.

    Errors of the members of a union on one field are merged into one "expected A or B".

    >>> from pydantic import ValidationError
    >>> try:
    ...     VariableSpec.model_validate({"shape": 2.5})
    ... except ValidationError as exc:
    ...     describe_errors(exc.errors(), {"shape": 2.5})
    [(('shape',), 'expected an integer or a string or a list, found 2.5')]
    """
    grouped: dict[tuple[str | int, ...], list[Any]] = {}
    for err in errors:
        path = _clean_loc(tuple(err["loc"]), data, err["type"] == "missing")
        grouped.setdefault(path, []).append(err)
    out = []
    for path, errs in grouped.items():
        kinds = [e["type"] for e in errs]
        if len(errs) > 1 and all(k in _EXPECTED for k in kinds):
            wants = list(dict.fromkeys(_EXPECTED[k] for k in kinds))
            out.append((path, f"expected {' or '.join(wants)}, found {_short(errs[0]['input'])}"))
        else:
            out.append((path, _message(errs[0])))
    return out
