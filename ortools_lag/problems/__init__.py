"""The problem library: a plain registry from a problem *kind* to the module that builds it.

One name everywhere: the module ``ortools_lag.problems.<kind>``, the YAML field ``kind: <kind>``
and what ``ortools-lag list`` prints. Each family module exposes

- ``build(**data) -> Problem``: typed keyword arguments (arrays, graphs), used by a YAML file's
  inline ``data:`` section;
- ``read(path, **options) -> Problem``: its standard instance format (the parser is in
  :mod:`ortools_lag.io`), used by ``instance:`` plus ``options:``;
- ``decode(solution)``: the domain answer (a path, a tour, an assignment ...);
- its named relaxations, with their structured oracles and heuristics, and the formula and the
  meaning of each multiplier in its docstring.

**Structured solvers live with their family.** A solver that only makes sense for one family
(``dijkstra``, ``held_karp``, ``knapsack_dp``, ``beasley`` ...) is a class in the family's
module, built on the bases of :mod:`ortools_lag.solvers` (the Lagrangian-heuristic and
gap-closing bases, the backend round trip), and named in the solver registry by its
``"module:Class"`` string: families import solvers, never the other way round. The network
families (``shortest_path``, ``min_cost_flow``, ``max_flow``, ``transportation``,
``assignment``) share one base, :mod:`ortools_lag.problems.network` (arcs, labels, incidence,
decoding, the certificate hook, and the solvers common to all networks).

Modules are imported lazily, on first use: importing this package imports no family. The kinds
``model`` (variables, parameters and expressions written in the YAML file) and ``mps`` (an MPS
file) are handled by :mod:`ortools_lag.spec.loader` itself.

>>> from ortools_lag.problems import KINDS, kinds
>>> "tsp" in kinds() and KINDS["tsp"]
'ortools_lag.problems.tsp'
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import typing
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from ortools_lag.errors import SpecError

__all__ = ["BUILTIN", "KINDS", "bind", "describe", "installed", "kinds", "module", "parameters"]

#: kind -> module path (imported lazily).
KINDS: dict[str, str] = {
    "model": "ortools_lag.spec.loader",
    "mps": "ortools_lag.spec.loader",
    "shortest_path": "ortools_lag.problems.shortest_path",
    "min_cost_flow": "ortools_lag.problems.min_cost_flow",
    "max_flow": "ortools_lag.problems.max_flow",
    "transportation": "ortools_lag.problems.transportation",
    "assignment": "ortools_lag.problems.assignment",
    "csp": "ortools_lag.problems.csp",
    "tsp": "ortools_lag.problems.tsp",
    "knapsack": "ortools_lag.problems.knapsack",
    "gap": "ortools_lag.problems.gap",
    "set_cover": "ortools_lag.problems.set_cover",
    "facility_location": "ortools_lag.problems.facility_location",
    "maxcut": "ortools_lag.problems.maxcut",
    "nn_training": "ortools_lag.problems.nn_training",
}

#: Kinds the YAML loader handles itself (no family module).
BUILTIN: dict[str, str] = {
    "model": "a generic model: variables, parameters, objective and constraint expressions",
    "mps": "an LP/MILP in an MPS file (instance: path.mps or path.mps.gz)",
}


def kinds() -> list[str]:
    """Every registered kind, in registry order."""
    return list(KINDS)


def installed(kind: str) -> bool:
    """True when the kind's module can be found (nothing is imported).

    >>> installed("model"), installed("no_such_kind")
    (True, False)
    """
    if kind not in KINDS:
        return False
    try:
        return importlib.util.find_spec(KINDS[kind]) is not None
    except (ImportError, ValueError):
        return False


def module(kind: str) -> ModuleType:
    """Import and return the family module of ``kind``.

    Raises
    ------
    SpecError
        For an unknown kind (listing the valid ones) or a planned kind whose module is not
        installed yet.
    """
    if kind not in KINDS:
        raise SpecError(f"unknown problem kind {kind!r}", field="kind", choices=kinds())
    path = KINDS[kind]
    if not installed(kind):
        ready = [k for k in KINDS if installed(k)]
        raise SpecError(
            f"problem kind {kind!r} is planned but its module {path} is not installed yet",
            field="kind",
            choices=ready,
        )
    return importlib.import_module(path)


def describe(kind: str) -> str:
    """One line about ``kind``: the first line of its module docstring when installed."""
    if kind in BUILTIN:
        return BUILTIN[kind]
    if not installed(kind):
        return "not installed yet"
    try:
        doc = (module(kind).__doc__ or "").strip().splitlines()
    except Exception as exc:  # a family module that fails to import is reported, not raised
        return f"cannot be imported: {type(exc).__name__}: {exc}"
    return doc[0] if doc else ""


_KW = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def parameters(fn: Callable[..., Any], *, skip_first: bool = False) -> dict[str, bool]:
    """The keyword arguments ``fn`` takes, each with whether it is required.

    >>> def read(path, scale: float = 1.0, *, directed: bool): ...
    >>> parameters(read, skip_first=True)
    {'scale': False, 'directed': True}
    """
    params = list(inspect.signature(fn).parameters.values())
    if skip_first and params:
        params = params[1:]
    return {p.name: p.default is inspect.Parameter.empty for p in params if p.kind in _KW}


def _annotations(fn: Callable[..., Any]) -> dict[str, Any]:
    """The resolved annotations of ``fn`` (empty when they cannot be resolved).

    Names a family imports only for type checking (``np``, ``npt``, ``nx``) are supplied.
    """
    import networkx as nx
    import numpy as np
    import numpy.typing as npt

    module = sys.modules.get(getattr(fn, "__module__", ""), None)
    scope: dict[str, Any] = {"np": np, "npt": npt, "nx": nx, "numpy": np, "networkx": nx}
    scope.update(vars(module) if module is not None else {})
    try:
        return typing.get_type_hints(fn, globalns=scope)
    except Exception:  # an annotation that does not resolve: no type checks, names still are
        return {}


def _graph(value: Mapping[str, Any], directed: bool) -> Any:
    """A networkx graph from ``{edges: [[u, v, {attrs}] ...], nodes: [...]}``."""
    import networkx as nx

    g = nx.DiGraph() if directed or value.get("directed") else nx.Graph()
    g.add_nodes_from(value.get("nodes", []))
    for edge in value.get("edges", []):
        if not isinstance(edge, (list, tuple)) or len(edge) not in (2, 3):
            raise ValueError(f"an edge is [u, v] or [u, v, {{attributes}}], found {edge!r}")
        attrs = edge[2] if len(edge) == 3 else {}
        if not isinstance(attrs, Mapping):
            raise ValueError(f"edge attributes must be a mapping, found {attrs!r}")
        g.add_edge(edge[0], edge[1], **attrs)
    return g


def _coerce(value: Any, ann: Any) -> Any:
    """Lists become arrays for array parameters, mappings become graphs for graph ones."""
    text = str(ann)
    if isinstance(value, list) and any(k in text for k in ("ndarray", "ArrayLike", "NDArray")):
        import numpy as np

        return np.asarray(value)
    if isinstance(value, Mapping) and "Graph" in text:
        return _graph(value, "DiGraph" in text)
    return value


def bind(
    kind: str, fn: Callable[..., Any], kwargs: Mapping[str, Any], *, skip_first: bool = False
) -> dict[str, Any]:
    """Check ``kwargs`` against ``fn``'s signature and annotations; return them coerced.

    Raises
    ------
    SpecError
        ``field`` names the offending key: an unknown name (with the valid ones), a missing
        required one, or a value of the wrong type.

    >>> def build(costs: list[float], scale: float = 1.0): ...
    >>> bind("demo", build, {"costs": [1, 2], "scale": 2})
    {'costs': [1.0, 2.0], 'scale': 2.0}
    >>> bind("demo", build, {"cost": [1]})
    Traceback (most recent call last):
    ...
    ortools_lag.errors.SpecError: cost: unknown field for demo.build (valid choices: costs, scale)
    """
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    params = parameters(fn, skip_first=skip_first)
    takes_any = any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(fn).parameters.values()
    )
    where = f"{kind}.{getattr(fn, '__name__', 'build')}"
    for key in kwargs:
        if key not in params and not takes_any:
            raise SpecError(f"unknown field for {where}", field=str(key), choices=list(params))
    missing = [k for k, req in params.items() if req and k not in kwargs]
    if missing:
        raise SpecError(f"{where} needs {', '.join(missing)}", field=missing[0])
    out: dict[str, Any] = {}
    config = ConfigDict(arbitrary_types_allowed=True)
    hints = _annotations(fn)
    for key, value in kwargs.items():
        ann = hints.get(key) if key in params else None
        if ann is None:
            out[key] = value
            continue
        where_bool = None if "bool" in str(ann) else _first_bool(value)
        if where_bool is not None:
            at = "".join(f"[{i}]" for i in where_bool)
            raise SpecError(
                f"expected a number at {key}{at}, found a YAML boolean (true/false are not "
                "numbers: write 1 or 0)",
                field=key,
            )
        if _is_array(ann) and isinstance(value, (list, int, float)) and not isinstance(value, bool):
            out[key] = _numeric_array(value, key)  # pydantic would read 50 as complex 50+0j
            continue
        try:
            coerced = _coerce(value, ann)
            out[key] = TypeAdapter(ann, config=config).validate_python(coerced)
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"]
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise SpecError(
                f"expected {_type_name(ann)}, found {shown}: {msg}", field=key
            ) from None
        except Exception as exc:  # a coercion or a type pydantic cannot build a validator for
            raise SpecError(f"cannot use this value: {exc}", field=key) from None
    return out


def _first_bool(value: Any, _at: tuple[int, ...] = ()) -> tuple[int, ...] | None:
    """The index path of the first boolean inside ``value`` (nested lists), else ``None``.

    >>> _first_bool([5, [1, True]])
    (1, 1)
    """
    if isinstance(value, bool):
        return _at
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _first_bool(v, (*_at, i))
            if found is not None:
                return found
    return None


def _is_array(ann: Any) -> bool:
    return any(k in str(ann) for k in ("ndarray", "ArrayLike", "NDArray"))


def _numeric_array(value: Any, key: str) -> Any:
    import numpy as np

    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = np.asarray([object()])
    if arr.dtype.kind not in "biuf":
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise SpecError(f"expected numbers, found {shown}", field=key)
    return arr


def _type_name(ann: Any) -> str:
    name = getattr(ann, "__name__", None)
    return name if name and not getattr(ann, "__args__", None) else str(ann).replace("typing.", "")
