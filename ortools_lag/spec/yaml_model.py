"""``kind: model``: build a :class:`~ortools_lag.problem.Problem` from a validated file.

Parameters are constant arrays (inline, or CSV/``.npy`` files beside the YAML file); variables take
their shapes and bounds from numbers, lists or expressions of parameters; the objective and each
constraint group are parsed by :mod:`.expr_parser`. Groups marked ``relax: true`` form the file's
default relaxation plan ``"relax"``: their multipliers λ_g enter the Lagrangian ``L(x, λ) = f(x) +
Σ_g λ_g · c_g(x)`` (``c_g <= 0`` held as the README's sign convention says; λ_g >= 0 on inequality
groups, free on equalities), the other groups and the bounds are kept.

>>> from ortools_lag.spec.yaml_positions import Located
>>> from ortools_lag.spec.yaml_schema import ModelFile, normalise
>>> doc = Located.from_text('''
... schema_version: 1
... kind: model
... variables: {x: {shape: 2}}
... parameters: {c: [1, 2]}
... minimize: c @ x
... constraints: {cover: {expr: "sum(x) >= 1", relax: true}}
... ''', "demo.yaml")
>>> p = build_model(doc, ModelFile.model_validate(normalise(doc.data)), Path("."))
>>> p.relaxation().relax, p.model.sense
(('cover',), 'min')
"""

from __future__ import annotations

import keyword
import math
from pathlib import Path
from typing import Any

import numpy as np

from ortools_lag.errors import ModelError, SpecError
from ortools_lag.model import Model
from ortools_lag.problem import Problem, Relaxation
from ortools_lag.spec.expr_parser import (
    RESERVED,
    ExpressionError,
    Scope,
    as_objective,
    parse_constant,
    parse_constraint,
    parse_expression,
)
from ortools_lag.spec.yaml_positions import Located, is_readable_file, short_name
from ortools_lag.spec.yaml_schema import ModelFile, ParameterSpec, VariableSpec

__all__ = ["MAX_DATA_BYTES", "MAX_ENTRIES", "RELAXATION", "build_model", "read_array"]

MAX_DATA_BYTES = 50_000_000
MAX_ENTRIES = 5_000_000
#: Name of the relaxation plan made of the groups marked ``relax: true``.
RELAXATION = "relax"

Path_ = tuple[str | int, ...]


def read_array(path: Path, *, delimiter: str = ",", skip_header: int = 0) -> np.ndarray:
    """Read a parameter file: ``.npy`` (no pickles) or delimited text (``numpy.loadtxt``).

    Raises
    ------
    SpecError
        Missing, oversized or malformed files (naming the file).
    """
    if not is_readable_file(path):
        raise SpecError("parameter file not found", file=short_name(path))
    size = path.stat().st_size
    if size > MAX_DATA_BYTES:
        raise SpecError(
            f"file too large: {size} bytes (the limit is {MAX_DATA_BYTES})", file=str(path)
        )
    try:
        if path.suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            arr = np.loadtxt(path, delimiter=delimiter, skiprows=skip_header, ndmin=1)
        return np.asarray(arr, dtype=float)
    except (ValueError, OSError, EOFError) as exc:
        raise SpecError(f"cannot read the array: {exc}", file=str(path)) from None


def _holds_bool(value: Any) -> bool:
    if isinstance(value, list):
        return any(_holds_bool(v) for v in value)
    return isinstance(value, bool)


def _inline(value: Any) -> np.ndarray:
    if _holds_bool(value):
        raise ValueError("expected numbers, found a YAML boolean (true/false): write 1 or 0")
    try:
        arr = np.asarray(value, dtype=float)
    except (ValueError, TypeError):
        raise ValueError(
            f"expected a number or a rectangular list of numbers, found {_short(value)}"
        ) from None
    if arr.size > MAX_ENTRIES:
        raise ValueError(f"too many entries ({arr.size} > {MAX_ENTRIES})")
    return arr


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parameters(doc: Located, spec: ModelFile, base: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, p in spec.parameters.items():
        path: Path_ = ("parameters", name)
        _check_name(doc, name, path)
        arr = _parameter(doc, p, path, base)
        if np.isnan(arr).any():
            raise doc.error(path, "contains NaN")
        if p.shape is not None and tuple(arr.shape) != tuple(p.shape):
            raise doc.error(
                (*path, "shape"), f"expected shape {tuple(p.shape)}, found {tuple(arr.shape)}"
            )
        out[name] = arr
    return out


def _parameter(doc: Located, p: ParameterSpec, path: Path_, base: Path) -> np.ndarray:
    if p.file is None:
        try:
            return _inline(p.value)
        except ValueError as exc:
            inline = isinstance(doc.data_at(path), dict)
            raise doc.error((*path, "value") if inline else path, str(exc)) from None
    target = base / p.file
    if not is_readable_file(target):
        raise doc.error(
            (*path, "file"),
            f"parameter file not found: {short_name(p.file)} ({short_name(target)})",
        )
    target = target.resolve()
    return read_array(target, delimiter=p.delimiter, skip_header=p.skip_header)


def _check_name(doc: Located, name: str, path: Path_) -> None:
    if name in RESERVED or name.startswith("__") or keyword.iskeyword(name):
        raise doc.error(path, f"the name {name!r} is reserved", at_key=True)
    if not name.isidentifier():
        raise doc.error(
            path,
            f"the name {name!r} cannot be used in expressions: use letters, digits and '_', "
            "starting with a letter",
            at_key=True,
        )


def _shape(doc: Located, v: VariableSpec, params: dict[str, np.ndarray], path: Path_) -> tuple:
    dims = v.shape if isinstance(v.shape, list) else [v.shape]
    out = []
    for i, d in enumerate(dims):
        where = (*path, "shape") if not isinstance(v.shape, list) else (*path, "shape", i)
        if isinstance(d, str):
            try:
                val = parse_constant(d, Scope(parameters=params))
            except ExpressionError as exc:
                raise doc.error(where, exc.reason, choices=exc.choices) from None
            if val.ndim != 0 or not np.isfinite(val) or val != np.round(val):
                raise doc.error(where, f"a dimension must be an integer, found {d!r}")
            d = int(val)
        if d < 0:
            raise doc.error(where, f"a dimension must be >= 0, found {d}")
        if d > MAX_ENTRIES:
            raise doc.error(where, f"a dimension must be at most {MAX_ENTRIES}, found {d:.3g}")
        out.append(int(d))
    if math.prod(out) > MAX_ENTRIES:
        raise doc.error((*path, "shape"), f"too many variables ({math.prod(out)} > {MAX_ENTRIES})")
    return tuple(out)


def _bound(doc: Located, value: Any, scope: Scope, shape: tuple, path: Path_) -> Any:
    if value is None:
        return None
    try:
        if isinstance(value, str):
            arr = parse_constant(value, scope)
        else:
            arr = _inline(value)
    except ExpressionError as exc:
        raise doc.error(path, exc.reason, choices=exc.choices, offset=exc.offset) from None
    except ValueError as exc:
        raise doc.error(path, str(exc)) from None
    if np.isnan(arr).any():
        raise doc.error(path, "contains NaN")
    try:
        np.broadcast_to(arr, shape)
    except ValueError:
        raise doc.error(
            path, f"expected shape {shape} (or one that broadcasts), found {arr.shape}"
        ) from None
    return arr


def _variables(doc: Located, spec: ModelFile, m: Model, params: dict[str, np.ndarray]) -> None:
    scope = Scope(parameters=params)
    for name, v in spec.variables.items():
        path: Path_ = ("variables", name)
        _check_name(doc, name, path)
        if name in params:
            raise doc.error(path, f"{name!r} is already a parameter", at_key=True)
        shape = _shape(doc, v, params, path)
        lb = _bound(doc, v.lb, scope, shape, (*path, "lb"))
        ub = _bound(doc, v.ub, scope, shape, (*path, "ub"))
        if v.labels is not None and len(v.labels) != math.prod(shape):
            raise doc.error(
                (*path, "labels"), f"expected {math.prod(shape)} labels, found {len(v.labels)}"
            )
        try:
            m.var(name, shape, lb=lb, ub=ub, domain=v.domain, labels=v.labels)
        except ModelError as exc:
            raise doc.error(path, str(exc), at_key=True) from None


def _objective(doc: Located, spec: ModelFile, m: Model, scope: Scope) -> None:
    key = "minimize" if spec.minimize is not None else "maximize"
    text = spec.minimize if spec.minimize is not None else spec.maximize
    assert text is not None
    try:
        expr = as_objective(parse_expression(text, scope))
        if key == "minimize":
            m.minimize(expr)
        else:
            m.maximize(expr)
    except ExpressionError as exc:
        raise doc.error((key,), exc.reason, choices=exc.choices, offset=exc.offset) from None
    except ModelError as exc:
        raise doc.error((key,), str(exc)) from None


def _constraints(doc: Located, spec: ModelFile, m: Model, scope: Scope) -> list[str]:
    relax = []
    for name, c in spec.constraints.items():
        path: Path_ = ("constraints", name)
        where = (*path, "expr") if isinstance(doc.data_at(path), dict) else path
        if name in m.variables or name in scope.parameters:
            raise doc.error(path, f"the group name {name!r} is already used", at_key=True)
        try:
            con = parse_constraint(c.expr, scope)
            if c.labels is not None and len(c.labels) != con.size:
                raise doc.error((*path, "labels"), f"expected {con.size} labels")
            m.add(name, con, labels=c.labels)
        except ExpressionError as exc:
            raise doc.error(where, exc.reason, choices=exc.choices, offset=exc.offset) from None
        except ModelError as exc:
            raise doc.error(path, str(exc), at_key=True) from None
        if c.relax:
            relax.append(name)
    return relax


def build_model(doc: Located, spec: ModelFile, base: Path) -> Problem:
    """Build the Problem of a ``kind: model`` file (``base``: the folder of the file).

    Raises
    ------
    SpecError
        With the file, line, column and field of the first problem found.
    """
    params = _parameters(doc, spec, base)
    m = Model(spec.name or Path(doc.file).name.split(".")[0])
    _variables(doc, spec, m, params)
    scope = Scope(variables=m.variables, parameters=params)
    _objective(doc, spec, m, scope)
    relax = _constraints(doc, spec, m, scope)
    relaxations = {}
    if relax:
        relaxations[RELAXATION] = Relaxation(
            relax=tuple(relax), description="the groups marked relax: true"
        )
    source = {
        "sense": "minimize" if spec.minimize is not None else "maximize",
        "objective": spec.minimize if spec.minimize is not None else spec.maximize,
        "constraints": {k: c.expr for k, c in spec.constraints.items()},
        "parameters": {k: tuple(v.shape) for k, v in params.items()},
    }
    return Problem(
        m,
        relaxations=relaxations,
        default_relaxation=RELAXATION if relax else None,
        kind="model",
        data={"parameters": params},
        metadata={"source": source, "description": spec.description},
    )
